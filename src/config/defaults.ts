// Fills schema defaults into a raw config. TypeBox's Value.Default is not used: it treats a list as a
// mapping and fills defaults into it, so `metrics: []` would silently become `metrics: {enabled: true}`.
import type { Node } from './settings.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value with every missing key that has a default filled in; values of the wrong type are left for validation. */
export function applyDefaults(schema: Node, value: unknown): unknown {
  let v = value === undefined && 'default' in schema ? structuredClone(schema.default) : value;
  if (schema.type === 'object' && schema.properties && isObj(v)) {
    v = { ...v };
    for (const [key, child] of Object.entries(schema.properties)) {
      const filled = applyDefaults(child, (v as Record<string, unknown>)[key]);
      if (filled !== undefined) (v as Record<string, unknown>)[key] = filled;
    }
  } else if (schema.type === 'array' && schema.items && Array.isArray(v)) {
    v = v.map((item) => applyDefaults(schema.items!, item));
  }
  return v;
}
