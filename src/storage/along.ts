// A read that rides along in another statement, so that lookups made one after the other cost one round
// trip. Two ways:
//  - handed to the statement's module directly (the login throttle's check inside an MFA code submission's
//    attempt count: mfa/challenges.ts);
//  - announced ahead (`announce`) by a request that knows what it will read: the next oidc_models read of
//    its unit of work carries it (oidc-adapter.ts find), and the module that would have read it takes the
//    value (`takeAnnounced`). The password POST announces its throttle check and its user lookup, which
//    then come with the interaction's read (interaction/routes.ts): two round trips fewer per login.
import { currentUnit, type Unit } from './unit-of-work.ts';

export interface Along<T> {
  /** The table it reads, for the statement counts of tests and bench (alongTablesOf). */
  table: string;
  /** A scalar subquery (one value, NULL when nothing), given the placeholder of its one parameter. */
  sql: (placeholder: string) => string;
  param: unknown;
  /** The value as pg hands it out (jsonb parsed) → the result. */
  parse: (value: unknown) => T;
}

interface Announced { pending: Map<string, Along<unknown>>; values: Map<string, unknown> }
const byUnit = new WeakMap<Unit, Announced>();

function announcedOf(u: Unit): Announced {
  let a = byUnit.get(u);
  if (!a) { a = { pending: new Map(), values: new Map() }; byUnit.set(u, a); }
  return a;
}

/**
 * Announces a read (named by what it reads: the same name must mean the same lookup) for the next statement
 * of this request that carries reads along. Outside a unit of work: nothing (the lookup is made as usual).
 */
export function announce(name: string, along: Along<unknown>): void {
  const u = currentUnit();
  if (u) announcedOf(u).pending.set(name, along);
}

/**
 * The value of an announced read that came along (once), or undefined when none did: the caller then reads
 * it itself. A value is taken once, so a second lookup in the same request reads again.
 */
export function takeAnnounced<T>(name: string): T | undefined {
  const u = currentUnit();
  const a = u && byUnit.get(u);
  if (!a?.values.has(name)) return undefined;
  const v = a.values.get(name) as T;
  a.values.delete(name);
  return v;
}

/**
 * For a `SELECT …` reading at most one row with `params` (placeholders $1…$n): the same statement carrying
 * this unit's announced reads (taken off the unit) as more columns, and `keep`, which files their values
 * from the row and gives the row without them. When the statement finds no row, the announced values do
 * not come either and their modules read them themselves (a missing interaction ends the request anyway).
 * Undefined when nothing is announced.
 */
export function carryAnnounced(u: Unit, sql: string, params: unknown[]):
  { sql: string; params: unknown[]; keep: <R extends object>(row: R | undefined) => R | undefined } | undefined {
  const a = byUnit.get(u);
  if (!a?.pending.size) return undefined;
  const carried = [...a.pending];
  a.pending.clear();
  // Each column is named after the table it reads, for the statement counts (alongTablesOf).
  const names = carried.map(([, along], i) => `along:${i}:${along.table}`);
  const cols = carried.map(([, along], i) => `${along.sql(`$${params.length + i + 1}`)} AS "${names[i]}"`);
  return {
    // A function, not a string, as the replacement: the columns hold `$'` (in a regular expression's `…$'`).
    sql: sql.replace(/^\s*SELECT\s/i, () => `SELECT ${cols.join(', ')},\n    `),
    params: [...params, ...carried.map(([, along]) => along.param)],
    keep: (row) => {
      if (!row) return undefined;
      const r = row as Record<string, unknown>;
      carried.forEach(([name, along], i) => { a.values.set(name, along.parse(r[names[i]!])); delete r[names[i]!]; });
      return row;
    },
  };
}

/** The tables a statement's announced reads read (carryAnnounced), for the statement counts of tests and bench. */
export function alongTablesOf(sql: string): string[] {
  return [...sql.matchAll(/ AS "along:\d+:([a-z_]+)"/g)].map((m) => m[1]!);
}
