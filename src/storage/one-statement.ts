// A unit of work's writes as one SQL statement: each write a data-modifying CTE, the one-time writes (if any)
// first, and a final SELECT that divides by the number of rows each one-time write changed. One statement is
// its own transaction in PostgreSQL: it commits whole, or — a one-time write lost (division by zero,
// 22012) or anything else failed — not at all. Against BEGIN, the statements and COMMIT pipelined in one
// round trip, it saves each statement's own cost on both sides (a message to build, bind, execute and
// answer; the BEGIN and the COMMIT): see bench/REPORT.md for what that is worth per refresh and per login.
//
// Every CTE reads the same snapshot and none sees another's rows, and PostgreSQL does not say which of two
// changes to the same row in one statement wins. So this is used only when no two writes can touch one row:
// oidc_models writes are one per row already (unit-of-work.ts queueRow supersedes), a `distinctRows` write
// adds a new row each time (an audit INSERT), and any other statement text may appear once; otherwise the
// caller keeps the transaction. With two one-time writes the error does not say which lost: the caller
// then runs the transaction to find out (unit-of-work.ts flushUnit).
import type { QueuedStatement } from './unit-of-work.ts';

export interface OneTimeWrite { /** INSERT/UPDATE … RETURNING something: a row when it wins, none when it loses. */ text: string; params: unknown[] }

const WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;

/** Placeholders $1…$n of one statement, renumbered after `offset` parameters of the statements before it. */
const shift = (text: string, offset: number) => (offset === 0 ? text : text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`));

/**
 * The statement text for a sequence of statement texts, or null where asOneStatement refuses them. The
 * texts are a fixed set and a kind of request queues the same sequence every time, so each sequence is
 * built once (renumbering its placeholders by regular expression was ≈ 1 % of a login's main-thread CPU).
 * A trie keyed by the texts themselves: no key string is built per call.
 */
interface Built { next: Map<unknown, Built>; text?: string | null }
const built: Built = { next: new Map() };
let builtNodes = 0;

function buildText(writes: QueuedStatement[], oneTime: OneTimeWrite[]): string | null {
  const texts = new Set<string>();
  // A one-time write's row must not be written again here. distinctRows writes never are (the caller
  // checks a consumed oidc_models row against the unit's queued rows); any other write to the same table
  // might be, so that unit keeps the transaction.
  const oneTimeTables = new Set(oneTime.map((o) => tableOf(o.text)));
  for (const w of writes) {
    if (!WRITE.test(w.text) || /\bRETURNING\b/i.test(w.text)) return null;
    if (w.distinctRows) continue;
    if (oneTimeTables.has(tableOf(w.text))) return null;
    if (texts.has(w.text)) return null;
    texts.add(w.text);
  }
  const ctes: string[] = [];
  let offset = 0;
  const add = (name: string, s: { text: string; params: unknown[] }) => {
    ctes.push(`${name} AS (${shift(s.text, offset)})`);
    offset += s.params.length;
  };
  oneTime.forEach((o, i) => add(`gh_c${i}`, o));
  writes.forEach((w, i) => add(`gh_w${i}`, w));
  const check = oneTime.map((_, i) => `1 / (SELECT count(*) FROM gh_c${i})::int`).join(' + ');
  return `WITH ${ctes.join(', ')} SELECT ${check || '1'} AS written`;
}

export function asOneStatement(writes: QueuedStatement[], oneTime: OneTimeWrite[] = []): QueuedStatement | undefined {
  // The path: how many one-time writes, their texts, then each write's distinctRows flag and text. A text
  // always takes the same number of parameters, so the path fixes the placeholders too.
  let at: Built | undefined = built;
  const walk = (k: unknown) => {
    if (!at) return;
    let next = at.next.get(k);
    if (!next && builtNodes < 5000) { next = { next: new Map() }; at.next.set(k, next); builtNodes++; }
    at = next;
  };
  walk(oneTime.length);
  for (const o of oneTime) walk(o.text);
  for (const w of writes) { walk(w.distinctRows === true); walk(w.text); }
  const cached = at as Built | undefined;
  let text = cached?.text;
  if (text === undefined) { text = buildText(writes, oneTime); if (cached) cached.text = text; }
  if (text === null) return undefined;
  const params: unknown[] = [];
  for (const o of oneTime) for (const p of o.params) params.push(p);
  for (const w of writes) for (const p of w.params) params.push(p);
  return { text, params };
}

/**
 * The table a statement is about, for the statement counts of tests and bench: a write's target, else the
 * FROM outside parentheses (not a subquery's, such as oidc-prefetch.ts's companions, nor extract(… FROM …)).
 */
export function tableOf(sql: string): string {
  const written = /\b(?:INTO|UPDATE)\s+([a-z_]+)/i.exec(sql)?.[1];
  if (written) return written;
  let top = sql;
  for (let prev = ''; prev !== top;) { prev = top; top = top.replace(/\([^()]*\)/g, ''); }
  return /\bFROM\s+([a-z_]{2,})\b/i.exec(top)?.[1] ?? '?';
}

/** The writes a statement made by asOneStatement holds, one-time writes first (for the statement counts of tests and bench). */
export function writesOf(text: string): string[] | undefined {
  if (!/^WITH gh_(c0|w0) AS \(/.test(text)) return undefined;
  return text.slice(5).split(/,? ?gh_(?:c|w)\d+ AS \(/).filter(Boolean).map((part) => part.replace(/\)( SELECT .*)?$/s, ''));
}
