import { z } from 'zod';
import { ROLES } from '../auth/jwt';
import { id, isoTimestamp, pageQuery, text } from './common';

const email = z.string().trim().toLowerCase().pipe(z.email({ message: 'must be an email address' }).max(254));
// bcrypt reads at most 72 bytes; a longer password would be silently truncated.
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .refine((p) => Buffer.byteLength(p, 'utf8') <= 72, 'must be at most 72 bytes');
const name = text({ max: 100 });

export const signupBody = z.object({ email, password, name }).strict();
export const signinBody = z.object({ email: z.string().trim().toLowerCase().max(254), password: z.string().max(1024) }).strict();
export const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) }).strict();
export const updateUserBody = z
  .object({ name: name.optional(), password: password.optional(), currentPassword: z.string().max(1024).optional(), role: z.enum(ROLES).optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'must change at least one field');
/** An admin's explicit reset of someone else's password. */
export const resetPasswordBody = z.object({ password }).strict();
export const usersQuery = z.object(pageQuery).strict();

export const user = z.object({
  id,
  email: z.string().optional(),
  name: z.string(),
  role: z.enum(ROLES).optional(),
  createdAt: isoTimestamp,
});
export type User = z.infer<typeof user>;

export const publicUser = z.object({ id, name: z.string(), createdAt: isoTimestamp });
export const userReply = z.object({ user });
export const sessionReply = z.object({ user, accessToken: z.string(), refreshToken: z.string() });
export const tokensReply = z.object({ accessToken: z.string(), refreshToken: z.string() });
