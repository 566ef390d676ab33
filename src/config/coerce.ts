// Turns an environment string into the type the schema expects at that path.
import type { TSchema } from '@sinclair/typebox';

type S = TSchema & { type?: string; properties?: Record<string, TSchema>; items?: TSchema; anyOf?: TSchema[] };

/** The sub-schema at a path, or undefined when the path is not a known setting. */
export function schemaAt(schema: TSchema, path: string[]): TSchema | undefined {
  let cur = schema as S;
  for (const key of path) {
    if (cur.type !== 'object' || !cur.properties?.[key]) return undefined;
    cur = cur.properties[key] as S;
  }
  return cur;
}

export function coerce(schema: TSchema, text: string): unknown {
  const s = schema as S;
  const type = s.type ?? (s.anyOf ? typeof (s.anyOf[0] as { const?: unknown }).const : undefined);
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : new Error('expected a number');
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      return new Error('expected true or false');
    case 'array':
    case 'object':
      if (text.trim().startsWith('[') || text.trim().startsWith('{')) {
        try { return JSON.parse(text); } catch { return new Error('expected JSON'); }
      }
      if (type === 'array') return text.split(',').map((x) => x.trim()).filter(Boolean);
      return new Error('expected a JSON object');
    default:
      return text;
  }
}
