import type { Knex, Outbox, TokenSigner, TokenVerifier } from '@market/common';
import type { UserRepository } from '../data-access/user-repository';

export interface UsersDeps {
  db: Knex;
  users: UserRepository;
  outbox: Outbox;
  /** Only users-service holds the private key that issues access tokens. */
  tokenSigner: TokenSigner;
  tokenVerifier: TokenVerifier;
  bcryptRounds: number;
  refreshTokenTtlSeconds: number;
  /** Failed sign-ins per account before it is locked for the rest of the window. */
  signinFailures: { max: number; windowSeconds: number };
}
