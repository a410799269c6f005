import { type Knex, iso, type Role } from '@market/common';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  tokenVersion: number;
  createdAt: string;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  token_version: number;
  created_at: Date;
}

const toRecord = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  role: row.role,
  tokenVersion: Number(row.token_version),
  createdAt: iso(row.created_at),
});

export type RevokeReason = 'rotated' | 'signed_out' | 'password_changed' | 'reuse_detected' | 'role_changed' | 'signed_out_everywhere';

export interface RefreshTokenRecord {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  revokedReason: RevokeReason | null;
}

export class UserRepository {
  constructor(private readonly db: Knex) {}

  async insert(user: Omit<UserRecord, 'createdAt' | 'tokenVersion'>, trx: Knex = this.db): Promise<UserRecord> {
    const now = new Date();
    await trx('users').insert({ id: user.id, email: user.email, name: user.name, password_hash: user.passwordHash, role: user.role, token_version: 0, created_at: now, updated_at: now });
    return { ...user, tokenVersion: 0, createdAt: now.toISOString() };
  }

  /** `forUpdate` locks the row for the rest of the transaction (a role change, a deletion). */
  async findById(id: string, trx: Knex = this.db, forUpdate = false): Promise<UserRecord | undefined> {
    const query = trx('users').where({ id }).first();
    const row = (await (forUpdate ? query.forUpdate() : query)) as UserRow | undefined;
    return row && toRecord(row);
  }

  /** The admins, locked: of two concurrent demotions or deletions of the last two admins, one waits and then sees one admin. */
  async lockAdmins(trx: Knex): Promise<string[]> {
    return ((await trx('users').where({ role: 'admin' }).forUpdate().select('id')) as { id: string }[]).map((r) => r.id);
  }

  /** Every access token issued so far stops working; returns the new version. */
  async bumpTokenVersion(id: string, trx: Knex): Promise<number> {
    await trx('users').where({ id }).increment('token_version', 1);
    const row = (await trx('users').where({ id }).first('token_version')) as { token_version: number } | undefined;
    return Number(row?.token_version ?? 0);
  }

  async recentSigninFailures(accountHash: string, since: Date): Promise<Date[]> {
    const rows = (await this.db('signin_failures').where('account_hash', accountHash).where('failed_at', '>', since).orderBy('failed_at').select('failed_at')) as { failed_at: Date }[];
    return rows.map((r) => new Date(r.failed_at));
  }

  /** Records a sign-in attempt as a failure until it is forgotten (it succeeded, or was not checked). */
  async recordSigninAttempt(accountHash: string, olderThan: Date): Promise<number> {
    const [id] = await this.db('signin_failures').insert({ account_hash: accountHash, failed_at: new Date() });
    // Pruned as we go: the table only ever holds one window's failures.
    await this.db('signin_failures').where('failed_at', '<', olderThan).delete();
    return Number(id);
  }

  async forgetSigninAttempt(id: number): Promise<void> {
    await this.db('signin_failures').where({ id }).delete();
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const row = (await this.db('users').where({ email }).first()) as UserRow | undefined;
    return row && toRecord(row);
  }

  async list(limit: number, offset: number): Promise<{ items: UserRecord[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db('users').orderBy([{ column: 'created_at', order: 'desc' }, 'id']).limit(limit).offset(offset) as Promise<UserRow[]>,
      this.db('users').count({ n: '*' }).first(),
    ]);
    return { items: rows.map(toRecord), total: Number(count?.n ?? 0) };
  }

  async update(id: string, changes: { name?: string; passwordHash?: string; role?: Role }, trx: Knex = this.db): Promise<void> {
    await trx('users')
      .where({ id })
      .update({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.passwordHash !== undefined ? { password_hash: changes.passwordHash } : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        updated_at: new Date(),
      });
  }

  async delete(id: string, trx: Knex): Promise<boolean> {
    await trx('refresh_tokens').where({ user_id: id }).delete();
    return (await trx('users').where({ id }).delete()) === 1;
  }

  async insertRefreshToken(token: { id: string; tokenHash: string; userId: string; familyId: string; expiresAt: Date }, trx: Knex = this.db): Promise<void> {
    await trx('refresh_tokens').insert({
      id: token.id,
      token_hash: token.tokenHash,
      user_id: token.userId,
      family_id: token.familyId,
      expires_at: token.expiresAt,
      created_at: new Date(),
    });
  }

  async findRefreshToken(tokenHash: string, trx: Knex = this.db): Promise<RefreshTokenRecord | undefined> {
    const row = (await trx('refresh_tokens').where({ token_hash: tokenHash }).first()) as
      | { id: string; user_id: string; family_id: string; expires_at: Date; revoked_reason: RevokeReason | null }
      | undefined;
    return row && { id: row.id, userId: row.user_id, familyId: row.family_id, expiresAt: new Date(row.expires_at), revokedReason: row.revoked_reason };
  }

  /** Conditional: only one of two concurrent rotations of the same token can win. */
  async rotateRefreshToken(id: string, trx: Knex = this.db): Promise<boolean> {
    return (await trx('refresh_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: new Date(), revoked_reason: 'rotated' })) === 1;
  }

  async revokeFamily(familyId: string, reason: RevokeReason): Promise<void> {
    await this.db('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: new Date(), revoked_reason: reason });
  }

  async revokeAllFor(userId: string, reason: RevokeReason, trx: Knex = this.db): Promise<void> {
    await trx('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: new Date(), revoked_reason: reason });
  }
}
