// A configuration problem and how it is shown: "<path> (<variables>): <text>". Messages are built from
// paths, variable names and fixed wording only; values are never interpolated (see redact.ts for the net).
import { ConfigSchema } from './schema.ts';
import { envNamesFor } from './env-names.ts';
import type { Node } from './settings.ts';

export interface Problem {
  /** JSON pointer of the setting, e.g. /mfa/duo/apiHost. */
  pointer?: string;
  /** The variable that carried the bad value, when one did; otherwise every variable for the path is named. */
  env?: string;
  text: string;
}

/** "PORT or GATEHOUSE_SERVER__PORT" for a pointer, or '' when no variable sets it on its own. */
export function envLabel(pointer: string): string {
  const keys = pointer.split('/').slice(1);
  let node = ConfigSchema as Node;
  const path: string[] = [];
  for (const key of keys) {
    if (node.type === 'array') {
      // Inside a list: a list of plain values is set as a whole; keys of list items have no variable.
      return node.items?.type === 'object' ? '' : envNamesFor(path).join(' or ');
    }
    const next = node.type === 'object' ? node.properties?.[key] : undefined;
    if (!next || !Object.hasOwn(node.properties!, key)) return '';
    node = next;
    path.push(key);
  }
  return node.type === 'object' || path.length === 0 ? '' : envNamesFor(path).join(' or ');
}

/** The line shown to the administrator: "/server/port (PORT or GATEHOUSE_SERVER__PORT): must be …". */
export function renderProblem(p: Problem): string {
  const names = p.env ?? (p.pointer ? envLabel(p.pointer) : '');
  const where = p.pointer ? (names ? `${p.pointer} (${names})` : p.pointer) : names;
  return `${where}: ${p.text}`;
}

/** True when `pointer` is `other`, inside it, or contains it. */
export function overlaps(pointer: string, other: string): boolean {
  return pointer === other || pointer.startsWith(`${other}/`) || other.startsWith(`${pointer}/`);
}
