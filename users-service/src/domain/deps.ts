import type { AccessTokens, Knex, Outbox } from '@market/common';
import type { UserRepository } from '../data-access/user-repository';

export interface UsersDeps {
  db: Knex;
  users: UserRepository;
  outbox: Outbox;
  accessTokens: AccessTokens;
  bcryptRounds: number;
  refreshTokenTtlSeconds: number;
}
