// One durable commit per HTTP request. While a request runs inside a unit (every oidc-provider request, see
// protocols/oidc/provider.ts, and every interaction screen, see interaction/routes.ts), the writes whose
// result nobody reads — oidc-provider's model saves and deletes, audit rows, a throttle reset, a challenge
// row — are queued instead of each being its own autocommit; they are written together, in one transaction
// (one statement where one-statement.ts can make one, else BEGIN … COMMIT), just before the response leaves.
// Nothing is lost by that: the browser or client cannot act on the answer before it has it, and the answer
// is sent only after the commit, so another instance finishing the login reads everything this one wrote
// (and an instance dying mid-request leaves nothing half-written).
//
// Writes that decide something (a one-time UPDATE … WHERE consumed_at IS NULL, attempt counters) run at once,
// except where the request's answer can wait for its commit: on the token endpoint the adapter's `consume` of
// the code or refresh token joins the unit as its *first* statement. The transaction then either flips
// consumed_at and writes the new tokens, or (a parallel request got there first) rolls back and the request
// answers invalid_grant and revokes the grant — exactly what an immediate `consume` losing did, one commit
// cheaper. The SAML SSO routes (their message ID, parked request and code) and a successful MFA code
// submission (its TOTP step and challenge, committed by flushNow before the answer is built) do the same
// through deferOneTime.
//
// Reads of oidc_models inside the unit see its queued state first (read-your-writes).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, Queryable } from './db.ts';
import { asOneStatement } from './one-statement.ts';
import { jsonCopy } from './json-copy.ts';

export interface QueuedStatement {
  text: string; params: unknown[];
  /** Adds a new row every time (no two such writes can touch one row): see one-statement.ts. */
  distinctRows?: boolean;
}

/** A queued oidc_models row: its payload as stored (JSON), or null once destroyed in this unit. */
export interface OverlayRow { model: string; id: string; json: string | null; uid: string | null; grantId: string | null; userCode: string | null }

export interface Unit {
  db?: Db;
  /** In order; a slot is emptied when a later write to the same oidc_models row supersedes it. */
  statements: Array<QueuedStatement | undefined>;
  overlay: Map<string, { row: OverlayRow; slot: number }>;
  /** Token endpoint only: consumes deferred to the flush (see above). */
  deferConsume: boolean;
  /** One-time writes deferred to the flush: oidc_models consumes (deferConsume) and others (deferOneTime), each `… RETURNING` a row when it wins. */
  consumes: Array<{ model: string; id: string; text: string; params: unknown[] }>;
  /** Flushed (or being flushed): later writes, e.g. from work the request left running, go straight out. */
  closed: boolean;
  /**
   * Rows read along with a token (oidc-adapter.ts find), keyed by rowKey(model, id): the token's Grant and,
   * where configured, its account ('Account'). The lookups oidc-provider makes next need no statement.
   */
  prefetched: Map<string, Record<string, unknown> | null>;
  /** Run once the flush committed (afterCommit): effects that must not count what a lost commit undid. */
  afterCommit: Array<() => void>;
  /**
   * The one oidc-provider request this unit lends itself to (saml/inline-authorize.ts): that request's writes
   * are queued here instead of in a unit of its own (protocols/oidc/provider.ts unitOfWork).
   */
  guest?: object;
  /**
   * Prefetched rows stay for every later lookup in this unit (a copy each time) instead of being handed out
   * once: set for a SAML request whose in-process authorization read the session, its Grants and account,
   * which the code's redemption then looks up again (saml/inline-authorize.ts).
   */
  sharePrefetched?: boolean;
}

export type FlushResult = { ok: true; commits: number } | { ok: false; lost: { model: string; id: string } };

const als = new AsyncLocalStorage<Unit>();

export const rowKey = (model: string, id: string) => `${model}\u0000${id}`;

/** The open unit of the current request, if any. */
export function currentUnit(): Unit | undefined {
  const u = als.getStore();
  return u && !u.closed ? u : undefined;
}

export function newUnit(opts: { deferConsume?: boolean } = {}): Unit {
  return { statements: [], overlay: new Map(), deferConsume: opts.deferConsume ?? false, consumes: [], closed: false, prefetched: new Map(), afterCommit: [] };
}

/**
 * A row prefetched in this request (see Unit.prefetched): its value (null: known not to exist), or undefined
 * when nothing was prefetched. Read once (unless the unit shares them, see Unit.sharePrefetched): a later
 * lookup in the same request goes to the database.
 */
export function takePrefetched<T = Record<string, unknown>>(model: string, id: string): T | null | undefined {
  const u = currentUnit();
  if (!u) return undefined;
  const key = rowKey(model, id);
  if (!u.prefetched.has(key)) return undefined;
  const v = u.prefetched.get(key) as T | null;
  if (u.sharePrefetched) return jsonCopy(v);
  u.prefetched.delete(key);
  return v;
}

/** Files a row read in this request for a later lookup of it in the same request (takePrefetched). */
export function filePrefetched(model: string, id: string, value: Record<string, unknown> | null | undefined) {
  currentUnit()?.prefetched.set(rowKey(model, id), value ?? null);
}

/** Forgets a prefetched row (a write to it in this request made it stale). */
export function dropPrefetched(model: string, id: string) {
  currentUnit()?.prefetched.delete(rowKey(model, id));
}

/**
 * Runs fn once the current request's commit has succeeded, and not at all when it fails or a deferred
 * consume loses (outside a unit: at once). For counters of what was handed out: oidc-provider announces a
 * token when it is built, before the commit that may still turn the answer into invalid_grant.
 */
export function afterCommit(fn: () => void) {
  const u = currentUnit();
  if (u) u.afterCommit.push(fn); else fn();
}

/** Runs fn (and everything it starts) inside the unit. */
export function runInUnit<T>(unit: Unit, fn: () => T): T {
  return als.run(unit, fn);
}

function bind(unit: Unit, db: Db) {
  if (unit.db && unit.db !== db) throw new Error('GW_ERR_UNIT_DB: one unit of work spans two databases');
  unit.db = db;
}

/** Queues a write whose result nobody needs (outside a unit: runs it now). */
export async function deferWrite(db: Db, text: string, params: unknown[], opts: { distinctRows?: boolean } = {}): Promise<void> {
  const u = currentUnit();
  if (!u) { await db.query(text, params); return; }
  bind(u, db);
  u.statements.push({ text, params, ...(opts.distinctRows ? { distinctRows: true } : {}) });
}

/** Queues an oidc_models write (upsert, or delete when row.json is null) superseding earlier ones of the row. */
export function queueRow(u: Unit, db: Db, row: OverlayRow, statement: QueuedStatement) {
  bind(u, db);
  const key = rowKey(row.model, row.id);
  const before = u.overlay.get(key);
  if (before && before.slot >= 0) u.statements[before.slot] = undefined;
  u.statements.push({ ...statement, distinctRows: true }); // one queued write per row, as just ensured
  u.overlay.set(key, { row, slot: u.statements.length - 1 });
}

/** Unqueues a row written in this unit: it is never written, and this unit's reads see it as gone. */
export function dropQueuedRow(u: Unit, model: string, id: string) {
  const key = rowKey(model, id);
  const queued = u.overlay.get(key);
  if (!queued) return;
  if (queued.slot >= 0) u.statements[queued.slot] = undefined;
  u.overlay.set(key, { row: { ...queued.row, json: null }, slot: -1 });
}

/**
 * Drops this model's queued rows of a grant, and the Grant itself if it was prefetched (a revocation ran
 * against the database meanwhile).
 */
export function dropGrantRows(u: Unit, model: string, grantId: string) {
  for (const { row } of u.overlay.values()) {
    if (row.model === model && row.grantId === grantId && row.json !== null) dropQueuedRow(u, model, row.id);
  }
  if (model === 'Grant') u.prefetched.delete(rowKey('Grant', grantId));
}

/** Thrown inside the flush transaction when a deferred consume lost the race: rolls everything back. */
class ConsumeLost extends Error {
  readonly lost: { model: string; id: string };
  constructor(lost: { model: string; id: string }) { super('consumed by another request'); this.lost = { model: lost.model, id: lost.id }; }
}

export const CONSUME_SQL = 'UPDATE oidc_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING grant_id';
/**
 * A one-time write as the flush's transaction sends it: it fails (division by zero, 22012) when it changes
 * nothing, so the statements sent behind it in the same round trip fail too and the transaction rolls back.
 */
export const orFail = (oneTime: string) => `WITH c AS (${oneTime}) SELECT 1 / count(*)::int AS consumed FROM c`;
const LOST = '22012';

/**
 * Writes what the unit queued in one commit — one statement when there is only one, or when
 * one-statement.ts can make one of them, else one transaction — the deferred consumes first, so a loser
 * writes nothing; then runs the unit's afterCommit callbacks if it committed. Closes the unit. Throws on a
 * database error.
 */
export async function flushUnit(u: Unit, onLost?: (q: Db, lost: { model: string; id: string }) => Promise<void>): Promise<FlushResult> {
  const r = await write(u, onLost);
  if (r.ok) for (const fn of u.afterCommit) fn();
  return r;
}

async function write(u: Unit, onLost?: (q: Db, lost: { model: string; id: string }) => Promise<void>): Promise<FlushResult> {
  u.closed = true;
  const statements = u.statements.filter((s): s is QueuedStatement => s !== undefined);
  const db = u.db;
  if (!db || (statements.length === 0 && u.consumes.length === 0)) return { ok: true, commits: 0 };
  if (u.consumes.length === 0 && statements.length === 1) {
    await db.query(statements[0]!.text, statements[0]!.params);
    return { ok: true, commits: 1 };
  }
  // No consumed row may also be written in this unit (two changes to one row in one statement).
  const single = u.consumes.every((c) => !u.overlay.has(rowKey(c.model, c.id)))
    ? asOneStatement(statements, u.consumes)
    : undefined;
  try {
    if (single) {
      try {
        await db.query(single.text, single.params);
        return { ok: true, commits: 1 };
      } catch (err) {
        if ((err as { code?: string }).code !== LOST || u.consumes.length === 0) throw err;
        if (u.consumes.length === 1) throw new ConsumeLost(u.consumes[0]!);
        // Two or more one-time writes, and the statement does not say which lost. The transaction below
        // finds out: a loss is final (the value was spent by a commit), so it loses again and writes nothing.
      }
    }
    await db.transaction(async (q: Queryable) => {
      // Every statement is sent at once, without waiting for the one before (the pg pool runs in pipeline
      // mode, storage/db.ts): BEGIN, the consumes, the writes and COMMIT in one round trip. The first
      // failure aborts the transaction, so the statements after it fail too (25P02) and the COMMIT rolls
      // back: the first rejection in order is the cause (and the only reason this function rejects).
      const sent = [
        ...u.consumes.map((c) => q.query(orFail(c.text), c.params)),
        ...statements.map((s) => q.query(s.text, s.params)),
      ];
      const settled = await Promise.allSettled(sent);
      for (let i = 0; i < settled.length; i++) {
        const r = settled[i]!;
        if (r.status === 'fulfilled') continue;
        if (i < u.consumes.length && (r.reason as { code?: string }).code === LOST) throw new ConsumeLost(u.consumes[i]!);
        throw r.reason;
      }
    }, { oneRoundTrip: true });
    return { ok: true, commits: 1 };
  } catch (err) {
    if (!(err instanceof ConsumeLost)) throw err;
    await onLost?.(db, err.lost);
    return { ok: false, lost: err.lost };
  }
}

/** Closes the unit without writing anything it queued (its request failed); later writes go straight out. */
export function discardUnit(u: Unit) {
  u.closed = true;
  u.statements.length = 0;
  u.consumes.length = 0;
}

/**
 * Writes the current request's unit now, instead of when the answer is sent: for a route whose answer
 * depends on whether its deferred one-time writes won (mfa/routes.ts, a code submission). The request's
 * own flush then finds the unit closed; later writes go straight out. Outside a unit: nothing to write.
 */
export async function flushNow(): Promise<FlushResult> {
  const u = currentUnit();
  return u ? flushUnit(u) : { ok: true, commits: 0 };
}

/** Defers a consume to the flush (token endpoint units only). */
export function deferConsume(u: Unit, db: Db, model: string, id: string) {
  bind(u, db);
  u.consumes.push({ model, id, text: CONSUME_SQL, params: [model, id] });
}

/**
 * Defers another one-time write to the flush, next to the consumes (any unit): `sql` (no RETURNING) must
 * change exactly one row when it wins and none when it loses — an `UPDATE … WHERE <still unused>`, an
 * `INSERT … ON CONFLICT DO NOTHING`. Losing rolls the unit back like a lost consume; flushUnit reports it
 * as `lost: { model: label.model, id: label.id }` (labels other than oidc-provider model names).
 */
export function deferOneTime(u: Unit, db: Db, label: { model: string; id: string }, sql: string, params: unknown[]) {
  bind(u, db);
  u.consumes.push({ ...label, text: `${sql} RETURNING 1`, params });
}

/**
 * A one-time write (as for deferOneTime) made with the current request's commit: inside a unit it is
 * deferred and this answers true (a loser learns it from the flush); outside one it runs now and answers
 * whether it won.
 */
export async function oneTimeAtCommit(db: Db, label: { model: string; id: string }, sql: string, params: unknown[]): Promise<boolean> {
  const u = currentUnit();
  if (!u) return (await db.query(sql, params)).rowCount === 1;
  deferOneTime(u, db, label, sql, params);
  return true;
}
