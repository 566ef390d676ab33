// Turns an environment string into the type the schema expects at that path. Failures say what was
// expected and never repeat the value: it may be a secret.
import type { Node } from './settings.ts';

export { schemaAt } from './settings.ts';

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
        try { return JSON.parse(trimmed); } catch { return new Error('must be a JSON list (the value does not parse as JSON)'); }
      }
      if (objects) return new Error('must be a JSON list of objects, e.g. [{"clientId": "…"}]');
      return trimmed === '' ? [] : trimmed.split(',').map((x) => x.trim()).filter(Boolean);
    }
    default:
      return text;
  }
}
