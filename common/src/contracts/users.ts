import { z } from 'zod';
import { ROLES } from '../auth/jwt';
import { id, isoTimestamp, pageOf, pageQuery, text } from './common';

const email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: 'must be an email address' }).max(254))
  // The document shows the input side of a pipe (a plain string): say what the server checks.
  .meta({ format: 'email', maxLength: 254, description: 'An email address (compared without surrounding spaces and case).' });
// bcrypt reads at most 72 bytes; a longer password would be silently truncated.
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .refine((p) => Buffer.byteLength(p, 'utf8') <= 72, 'must be at most 72 bytes')
  // JSON Schema cannot count bytes: 72 characters is the bound for ASCII, the description says the rest.
  .meta({ maxLength: 72, description: 'At least 8 characters and at most 72 bytes in UTF-8 (fewer characters outside ASCII).' });
const name = text({ max: 100 });

export const signupBody = z
  .object({ email, password, name })
  .strict()
  .meta({ id: 'SignUpRequest', examples: [{ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' }] });
// Any string up to the bounds: an address that could never have signed up is a 401 like a wrong password.
export const signinBody = z
  .object({ email: z.string().trim().toLowerCase().max(254), password: z.string().max(1024) })
  .strict()
  .meta({ id: 'SignInRequest', examples: [{ email: 'ada@example.com', password: 'correct horse battery' }] });
export const refreshBody = z
  .object({ refreshToken: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'RefreshTokenRequest', examples: [{ refreshToken: 'the refreshToken of your session' }] });
export const updateUserBody = z
  .object({
    name: name.optional(),
    password: password.optional(),
    currentPassword: z.string().max(1024).optional().meta({ description: 'Your current password: required to change your own password, and only sent with `password`.' }),
    role: z.enum(ROLES).optional().meta({ description: 'Only an admin may change it; the last admin cannot be demoted.' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'must change at least one field')
  .meta({ id: 'UpdateUserRequest', minProperties: 1, examples: [{ name: 'Ada Lovelace' }] });
/** An admin's explicit reset of someone else's password. */
export const resetPasswordBody = z.object({ password }).strict().meta({ id: 'ResetPasswordRequest', examples: [{ password: 'a new long passphrase' }] });
export const usersQuery = z.object(pageQuery).strict();

export const user = z.object({
  id,
  email: z.string().optional(),
  name: z.string(),
  role: z.enum(ROLES).optional(),
  createdAt: isoTimestamp,
}).meta({ id: 'User', description: '`email` only for the user themself or an admin, `role` only with it.' });
export type User = z.infer<typeof user>;

export const publicUser = z.object({ id, name: z.string(), createdAt: isoTimestamp }).meta({ id: 'PublicUser' });
export const publicUserPage = pageOf(publicUser).meta({ id: 'PublicUserPage' });
export const userReply = z.object({ user }).meta({ id: 'UserReply' });
export const sessionReply = z.object({ user, accessToken: z.string(), refreshToken: z.string() }).meta({ id: 'SessionReply' });
export const tokensReply = z.object({ accessToken: z.string(), refreshToken: z.string() }).meta({ id: 'TokensReply' });
