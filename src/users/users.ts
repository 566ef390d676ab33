// The users table: identity (stable `sub`), profile claims and credentials.
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { deferWrite, takePrefetched } from '../storage/unit-of-work.ts';

export interface User {
  id: string; username: string; name: string | null; email: string | null; emailVerified: boolean;
  groups: string[]; duoAlias: string | null; passwordHash: string; passwordChangedAt: Date; disabled: boolean;
  /** The factor the user completed last; pre-selected on the factor choice. */
  preferredFactor: string | null;
}
export interface NewUser { username: string; name?: string; email?: string; emailVerified?: boolean; groups?: string[]; duoAlias?: string }

const COLS = `id, username, name, email, email_verified AS "emailVerified", groups, duo_alias AS "duoAlias",
  password_hash AS "passwordHash", password_changed_at AS "passwordChangedAt", disabled, preferred_factor AS "preferredFactor"`;

/** What oidc-provider's findAccount needs of a user: the claims, and whether the account is disabled. */
export type AccountRow = Pick<User, 'id' | 'username' | 'name' | 'email' | 'emailVerified' | 'groups' | 'disabled'>;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The account as a scalar subquery (one jsonb value), for an SQL text expression holding its id: NULL when
 * there is no such user or the text is not a UUID (the guard keeps the cast from failing).
 * storage/oidc-prefetch.ts reads it with a token, a session or an interaction, so the refresh and code
 * grants, userinfo and a signed-in /oidc/auth need no users statement of their own.
 */
export const ACCOUNT_JSON = (idText: string) => `(SELECT jsonb_build_object('id', id, 'username', username, 'name', name, 'email', email,
  'emailVerified', email_verified, 'groups', groups, 'disabled', disabled) AS account FROM users
  WHERE id = CASE WHEN ${idText} ~* '${UUID_RE.source}' THEN (${idText})::uuid END)`;

export const USERNAME_RE = /^[A-Za-z0-9._@+-]{1,128}$/;

export function createUsers(db: Db) {
  async function findById(id: string): Promise<User | undefined> {
    if (!UUID_RE.test(id)) return undefined;
    return (await db.query<User>(`SELECT ${COLS} FROM users WHERE id = $1`, [id])).rows[0];
  }
  return {
    async findByUsername(username: string): Promise<User | undefined> {
      if (!USERNAME_RE.test(username)) return undefined;
      return (await db.query<User>(`SELECT ${COLS} FROM users WHERE lower(username) = lower($1)`, [username])).rows[0];
    },
    /** The account behind a token: prefetched with the token in this request if it was (ACCOUNT_JSON), else read. */
    async findAccount(id: string): Promise<AccountRow | undefined> {
      const pre = takePrefetched<AccountRow>('Account', id);
      return pre !== undefined ? pre ?? undefined : findById(id);
    },
    findById,
    async add(u: NewUser, passwordHash: string): Promise<User> {
      if (!USERNAME_RE.test(u.username)) throw new Error('username may use letters, digits and . _ @ + - (1–128 characters)');
      const r = await db.query<User>(
        `INSERT INTO users (id, username, name, email, email_verified, groups, duo_alias, password_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING ${COLS}`,
        [randomUUID(), u.username, u.name ?? null, u.email ?? null, u.emailVerified ?? false, u.groups ?? [], u.duoAlias ?? null, passwordHash],
      );
      return r.rows[0]!;
    },
    async setPassword(id: string, passwordHash: string): Promise<void> {
      await db.query('UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1', [id, passwordHash]);
    },
    async setDisabled(id: string, disabled: boolean): Promise<void> {
      await db.query('UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1', [id, disabled]);
    },
    async setPreferredFactor(id: string, factor: string): Promise<void> {
      await deferWrite(db, 'UPDATE users SET preferred_factor = $2 WHERE id = $1 AND preferred_factor IS DISTINCT FROM $2', [id, factor]);
    },
    async list(): Promise<User[]> {
      return (await db.query<User>(`SELECT ${COLS} FROM users ORDER BY lower(username)`)).rows;
    },
  };
}
export type Users = ReturnType<typeof createUsers>;
