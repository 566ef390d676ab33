// Counts what the gateway sends through its Db while a flow runs: durable commits (a write that changed a
// row outside a transaction, or a transaction that wrote), reads, and every statement as "VERB table"
// (a transaction as TX[…], a unit of work written as one statement as ONE[…]). Used by the commit budgets
// in test/storage/login-writes.test.ts and test/saml/round-trip-commits.test.ts.
import type { Db, Queryable, TransactionOptions } from '../../src/storage/db.ts';
import { tableOf, writesOf } from '../../src/storage/one-statement.ts';
import { alongTablesOf } from '../../src/storage/along.ts';

export interface DbTrace { commits: number; reads: number; statements: string[] }

const verb = (sql: string) => /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
/** A write, including a one-time `WITH c AS (UPDATE …) SELECT …` (unit-of-work.ts). */
export const isWrite = (sql: string) => /^(INSERT|UPDATE|DELETE)$/.test(verb(sql)) || /^\s*WITH\b[\s\S]*\b(INSERT|UPDATE|DELETE)\b/i.test(sql);
/** A read carrying reads announced ahead (src/storage/along.ts) shows as "SELECT oidc_models+[users, …]". */
const one = (sql: string) => { const along = alongTablesOf(sql); return `${verb(sql)} ${tableOf(sql)}${along.length ? `+[${along.join(', ')}]` : ''}`; };
/** A unit of work written as one statement (src/storage/one-statement.ts) shows as ONE[its writes]. */
const name = (sql: string) => { const parts = writesOf(sql); return parts ? `ONE[${parts.map(one).join(', ')}]` : one(sql); };

/** Wraps the gateway's Db in place (every module holds this same object) and returns the running trace. */
export function traceDb(db: Db): DbTrace {
  const tr: DbTrace = { commits: 0, reads: 0, statements: [] };
  const query = db.query.bind(db);
  const transaction = db.transaction.bind(db);
  (db as { query: Db['query'] }).query = async <R>(text: string, params?: unknown[]) => {
    tr.statements.push(name(text));
    const r = await query<R>(text, params);
    if (!isWrite(text)) tr.reads++;
    else if (r.rowCount > 0) tr.commits++;
    return r;
  };
  (db as { transaction: Db['transaction'] }).transaction = <T>(fn: (q: Queryable) => Promise<T>, opts?: TransactionOptions) => {
    let wrote = false;
    const inner: string[] = [];
    return transaction((q) => fn({
      query<R>(text: string, params?: unknown[]) { if (isWrite(text)) wrote = true; inner.push(name(text)); return q.query<R>(text, params); },
    }), opts).finally(() => { if (wrote) tr.commits++; tr.statements.push(`TX[${inner.join(', ')}]`); });
  };
  return tr;
}

export function resetTrace(tr: DbTrace) { tr.commits = 0; tr.reads = 0; tr.statements = []; }
