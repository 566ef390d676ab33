// A unit of work's writes as one SQL statement: each write a data-modifying CTE, the one-time write (if any)
// first, and a final SELECT that divides by the number of rows the one-time write changed. One statement is
// its own transaction in PostgreSQL: it commits whole, or — the one-time write lost (division by zero,
// 22012) or anything else failed — not at all. Against BEGIN, the statements and COMMIT pipelined in one
// round trip, it saves each statement's own cost on both sides (a message to build, bind, execute and
// answer; the BEGIN and the COMMIT): see bench/REPORT.md for what that is worth per refresh and per login.
//
// Every CTE reads the same snapshot and none sees another's rows, and PostgreSQL does not say which of two
// changes to the same row in one statement wins. So this is used only when no two writes can touch one row:
// oidc_models writes are one per row already (unit-of-work.ts queueRow supersedes), a `distinctRows` write
// adds a new row each time (an audit INSERT), and any other statement text may appear once. Otherwise, and
// with more than one one-time write (which one lost must be told apart), the caller keeps the transaction.
import type { QueuedStatement } from './unit-of-work.ts';

export interface OneTimeWrite { /** INSERT/UPDATE … RETURNING something: a row when it wins, none when it loses. */ text: string; params: unknown[] }

const WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;

/** Placeholders $1…$n of one statement, renumbered after `offset` parameters of the statements before it. */
const shift = (text: string, offset: number) => (offset === 0 ? text : text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`));

export function asOneStatement(writes: QueuedStatement[], oneTime?: OneTimeWrite): QueuedStatement | undefined {
  const texts = new Set<string>();
  for (const w of writes) {
    if (!WRITE.test(w.text) || /\bRETURNING\b/i.test(w.text)) return undefined;
    if (w.distinctRows) continue;
    if (texts.has(w.text)) return undefined;
    texts.add(w.text);
  }
  const ctes: string[] = [];
  const params: unknown[] = [];
  const add = (name: string, s: { text: string; params: unknown[] }) => {
    ctes.push(`${name} AS (${shift(s.text, params.length)})`);
    params.push(...s.params);
  };
  if (oneTime) add('gh_c', oneTime);
  writes.forEach((w, i) => add(`gh_w${i}`, w));
  return { text: `WITH ${ctes.join(', ')} SELECT ${oneTime ? '1 / count(*)::int AS consumed FROM gh_c' : '1 AS written'}`, params };
}

/** The writes a statement made by asOneStatement holds, one-time write first (for the statement counts of tests and bench). */
export function writesOf(text: string): string[] | undefined {
  if (!/^WITH gh_(c|w0) AS \(/.test(text)) return undefined;
  return text.slice(5).split(/,? ?gh_(?:c|w\d+) AS \(/).filter(Boolean).map((part) => part.replace(/\)( SELECT .*)?$/s, ''));
}
