// The users table: identity (stable `sub`), profile claims and credentials.
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.ts';
import { deferWrite, filePrefetched, takePrefetched } from '../storage/unit-of-work.ts';
import { announce, takeAnnounced, type Along } from '../storage/along.ts';
import { accountRowsJson, accountUuid, UUID_RE, type AccountJson } from '../storage/oidc-prefetch.ts';

export interface User {
  id: string; username: string; name: string | null; email: string | null; emailVerified: boolean;
  groups: string[]; duoAlias: string | null; passwordHash: string; passwordChangedAt: Date; disabled: boolean;
  /** The factor the user completed last; pre-selected on the factor choice. */
  preferredFactor: string | null;
}
export interface NewUser { username: string; name?: string; email?: string; emailVerified?: boolean; groups?: string[]; duoAlias?: string }

/** Each User field and its column: the row as findById reads it, and as USER_JSON hands it out with an interaction. */
const FIELDS: ReadonlyArray<readonly [keyof User, string]> = [
  ['id', 'id'], ['username', 'username'], ['name', 'name'], ['email', 'email'], ['emailVerified', 'email_verified'],
  ['groups', 'groups'], ['duoAlias', 'duo_alias'], ['passwordHash', 'password_hash'], ['passwordChangedAt', 'password_changed_at'],
  ['disabled', 'disabled'], ['preferredFactor', 'preferred_factor'],
];
const COLS = FIELDS.map(([k, c]) => (k === c ? c : `${c} AS "${k}"`)).join(', ');
const jsonOf = (keys: ReadonlyArray<keyof User>) => `jsonb_build_object(${FIELDS.filter(([k]) => keys.includes(k)).map(([k, c]) => `'${k}', ${c}`).join(', ')})`;

const ACCOUNT_KEYS = ['id', 'username', 'name', 'email', 'emailVerified', 'groups', 'disabled'] as const;
/** What oidc-provider's findAccount needs of a user: the claims, and whether the account is disabled. */
export type AccountRow = Pick<User, typeof ACCOUNT_KEYS[number]>;

/** A scalar subquery giving the user whose id `idText` (an SQL text expression) holds, as `json`; NULL when none or not a UUID. */
const userJson = (json: string) => (idText: string) => `(SELECT ${json} FROM users WHERE id = ${accountUuid(idText)})`;

/**
 * The account as one jsonb value (the fields findAccount needs). storage/oidc-prefetch.ts reads it with a
 * token or a session, so the refresh and code grants, userinfo and a signed-in /oidc/auth need no users
 * statement of their own.
 */
export const ACCOUNT_JSON = userJson(jsonOf(ACCOUNT_KEYS));
/**
 * The whole user row as one jsonb value, read with an interaction (storage/oidc-prefetch.ts): its login
 * result's account for the resume, or the signed-in user of an MFA screen (findSignedIn).
 */
/** Every field of a user row as one jsonb object (the timestamp as text: fromJson). */
const ROW_JSON = jsonOf(FIELDS.map(([k]) => k));
export const USER_JSON = userJson(ROW_JSON);
/** A user handed out as jsonb (USER_JSON): the timestamp comes as text. */
const fromJson = (u: (User & { passwordChangedAt: string | Date }) | null): User | undefined =>
  (u ? { ...u, passwordChangedAt: new Date(u.passwordChangedAt) } : undefined);

type ByName = User & { accountRows?: Record<string, Record<string, unknown> | null> };

export const USERNAME_RE = /^[A-Za-z0-9._@+-]{1,128}$/;

/**
 * `accountRows`: more rows of a user, read with it by findByUsername (name → scalar subquery, as
 * storage/oidc-prefetch.ts reads them with an interaction) and filed for this request with the user
 * itself: the MFA screen a password POST answers with (interaction/routes.ts) then looks up neither.
 */
export function createUsers(db: Db, o: { accountRows?: Record<string, AccountJson> } = {}) {
  async function findById(id: string): Promise<User | undefined> {
    if (!UUID_RE.test(id)) return undefined;
    return (await db.query<User>(`SELECT ${COLS} FROM users WHERE id = $1`, [id])).rows[0];
  }
  const rows = accountRowsJson(o.accountRows ?? {}, 'id::text');
  const BY_NAME = `SELECT ${COLS}${rows ? `, ${rows} AS "accountRows"` : ''} FROM users WHERE lower(username) = lower($1)`;
  /** findByUsername's read as a scalar subquery (storage/along.ts), the user as USER_JSON hands it out. */
  const byNameJson = `${ROW_JSON}${rows ? ` || jsonb_build_object('accountRows', ${rows})` : ''}`;
  const byNameAlong = (username: string): Along<ByName | null> => ({
    table: 'users',
    sql: (p) => `(SELECT ${byNameJson} FROM users WHERE lower(username) = lower(${p}::text))`,
    param: username,
    parse: (v) => fromJson(v as ByName | null) ?? null,
  });
  const announcedName = (username: string) => `users\u0000${username.toLowerCase()}`;
  return {
    async findByUsername(username: string): Promise<User | undefined> {
      if (!USERNAME_RE.test(username)) return undefined;
      const came = takeAnnounced<ByName | null>(announcedName(username));
      const row = came !== undefined ? came : (await db.query<ByName>(BY_NAME, [username])).rows[0];
      if (!row) return undefined;
      const { accountRows, ...user } = row;
      // Filed as USER_JSON hands a user out (the timestamp as text), so that a shared copy (jsonCopy) keeps it;
      // as the account too: an in-process resume (interaction/resume-in-process.ts) signs this user in next.
      const filed = { ...user, passwordChangedAt: new Date(user.passwordChangedAt).toISOString() };
      filePrefetched('User', user.id, filed);
      filePrefetched('Account', user.id, filed);
      for (const [name, value] of Object.entries(accountRows ?? {})) filePrefetched(name, user.id, value);
      return user;
    },
    /** Announces this request's findByUsername (storage/along.ts): it comes with the request's next read. */
    announceFindByUsername(username: string) {
      if (USERNAME_RE.test(username)) announce(announcedName(username), byNameAlong(username));
    },
    /** The account behind a token: prefetched with the token in this request if it was (ACCOUNT_JSON), else read. */
    async findAccount(id: string): Promise<AccountRow | undefined> {
      const pre = takePrefetched<AccountRow>('Account', id);
      return pre !== undefined ? pre ?? undefined : findById(id);
    },
    /**
     * The user signed in to an interaction (an MFA screen): read with the interaction in this request if it
     * was (USER_JSON), else read now.
     */
    async findSignedIn(id: string): Promise<User | undefined> {
      const pre = takePrefetched<User & { passwordChangedAt: string | Date }>('User', id);
      return pre === undefined ? findById(id) : fromJson(pre);
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
