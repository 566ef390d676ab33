// The flat list of settings in the schema: what the docs generator prints and what typo suggestions and
// environment labels are computed from.
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.ts';
import { envNamesFor } from './env-names.ts';

/** A schema node, with the keywords this loader reads. */
export type Node = TSchema & {
  type?: string; properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; const?: unknown;
  default?: unknown; description?: string; secret?: boolean; hint?: string; required?: string[];
  minLength?: number; maxLength?: number; minimum?: number; maximum?: number; minItems?: number; pattern?: string;
};

export interface Setting {
  /** Path of keys; '[]' stands for "every item of this list". */
  path: string[];
  schema: Node;
  /** Variables that set it; empty for keys inside a list item (set the whole list instead). */
  env: string[];
  secret: boolean;
  required: boolean;
}

/** Every leaf setting (lists count as leaves), including the keys of list items such as oidc.clients[]. */
export function listSettings(schema: TSchema = ConfigSchema): Setting[] {
  const out: Setting[] = [];
  const walk = (node: Node, path: string[], inList: boolean, required: boolean) => {
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) {
        walk(child, [...path, key], inList, node.required?.includes(key) ?? false);
      }
      return;
    }
    out.push({ path, schema: node, env: inList ? [] : envNamesFor(path), secret: node.secret === true, required });
    if (node.type === 'array' && node.items?.type === 'object') walk(node.items, [...path, '[]'], true, false);
  };
  walk(schema as Node, [], false, false);
  return out;
}

/** The sub-schema at a path of object keys, or undefined when the path is not a known key. */
export function schemaAt(schema: TSchema, path: readonly string[]): Node | undefined {
  let cur = schema as Node;
  for (const key of path) {
    if (cur.type !== 'object' || !cur.properties || !Object.hasOwn(cur.properties, key)) return undefined;
    cur = cur.properties[key]!;
  }
  return cur;
}
