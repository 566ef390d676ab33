// The guarantee that no secret value reaches an error message. Messages are built without values in the
// first place; this is the net under that rule, in case a message (ours or a library's) ever quotes one.
import type { Node } from './settings.ts';

export interface SecretValue { pointer: string; value: string }

/** Every value held by a `secret: true` setting, with its pointer (clients' secrets included). */
export function secretValues(schema: Node, value: unknown, pointer = ''): SecretValue[] {
  if (value === undefined || value === null) return [];
  if (schema.secret) return typeof value === 'object' ? [] : [{ pointer, value: String(value) }];
  if (schema.type === 'object' && schema.properties && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(schema.properties).flatMap(([k, child]) =>
      secretValues(child, (value as Record<string, unknown>)[k], `${pointer}/${k}`));
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    return value.flatMap((item, i) => secretValues(schema.items!, item, `${pointer}/${i}`));
  }
  return [];
}

/** Replaces every occurrence of every secret in the text. Very short values are skipped: they would mangle prose. */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const s of [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('[redacted]');
  }
  return out;
}
