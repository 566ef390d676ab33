// Turns an environment string into the type the schema expects at that path. Failures say what was
// expected and never repeat the value: it may be a secret.
import type { Node } from './settings.ts';

export { schemaAt } from './settings.ts';

/** Deeper than any real config (the schema nests a few levels): refused before anything recurses into it. */
export const MAX_CONFIG_DEPTH = 64;

/** Whether a parsed document nests deeper than max (iterative: a 100 000-deep JSON array must not overflow the stack). */
export function nestedDeeper(doc: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[doc, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    if (v && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The JSON type a node accepts; unions of literals report the type of their literals. */
function typeOf(s: Node): string | undefined {
  return s.type ?? (s.anyOf?.[0] && 'const' in s.anyOf[0] ? typeof s.anyOf[0].const : undefined);
}

/** The typed value, or an Error whose message completes "must be …"-style sentences. */
export function coerce(schema: Node, text: string): unknown {
  const type = typeOf(schema);
  const trimmed = text.trim();
  switch (type) {
    case 'integer':
    case 'number':
      // Stricter than Number(): '0x10', '1e3' or '' are more likely mistakes than intent.
      return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : new Error(`must be ${type === 'integer' ? 'a whole number' : 'a number'}`);
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(trimmed)) return true;
      if (/^(false|0|no|off)$/i.test(trimmed)) return false;
      return new Error('must be true or false');
    case 'array': {
      const objects = schema.items?.type === 'object';
      if (trimmed.startsWith('[')) {
        let list: unknown;
        try { list = JSON.parse(trimmed); } catch { return new Error('must be a JSON list (the value does not parse as JSON)'); }
        return nestedDeeper(list, MAX_CONFIG_DEPTH) ? new Error(`must be a JSON list nested at most ${MAX_CONFIG_DEPTH} levels deep`) : list;
      }
      if (objects) return new Error('must be a JSON list of objects, e.g. [{"clientId": "…"}]');
      return trimmed === '' ? [] : trimmed.split(',').map((x) => x.trim()).filter(Boolean);
    }
    default:
      return text;
  }
}
