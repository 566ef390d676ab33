// The common-password list that ships with the project (common-passwords.txt: the 10,000 most common
// passwords of 8+ characters, from @zxcvbn-ts/language-common, MIT). Loaded once, on first use.
import { readFileSync } from 'node:fs';

let list: Set<string> | undefined;

function load(): Set<string> {
  const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
  return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

/** True when the password (compared in lower case) is on the list. */
export function isCommonPassword(password: string): boolean {
  list ??= load();
  return list.has(password.toLowerCase());
}

/** How many entries the list holds (for tests and the docs). */
export const commonPasswordCount = () => (list ??= load()).size;
