// Loads the configuration: schema defaults → file (GATEHOUSE_CONFIG, YAML or JSON) → environment → *_FILE.
// All problems are collected and reported together, each with its path; secret values are never echoed.
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema.ts';
import { readEnv } from './env.ts';
import { coerce, schemaAt } from './coerce.ts';
import { crossChecks } from './validate.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions { env?: NodeJS.ProcessEnv; file?: string; overrides?: Record<string, unknown> }

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Obj, path: string[], value: unknown) {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (!isObj(cur[key])) cur[key] = {};
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? merge(out[k] as Obj, v) : v;
  return out;
}

function readFile(file: string, problems: string[]): Obj {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    problems.push(`GATEHOUSE_CONFIG: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  try {
    const doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (doc === null || doc === undefined) return {};
    if (!isObj(doc)) { problems.push(`${file}: the top level must be a mapping`); return {}; }
    return doc;
  } catch (err) {
    problems.push(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
}

/** Resolves `clientSecretFile` of each OIDC client into `clientSecret`. */
function resolveClientSecretFiles(raw: Obj, problems: string[]) {
  const clients = (raw.oidc as Obj | undefined)?.clients;
  if (!Array.isArray(clients)) return;
  clients.forEach((c: unknown, i) => {
    if (!isObj(c) || typeof c.clientSecretFile !== 'string') return;
    try {
      c.clientSecret = readFileSync(c.clientSecretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`/oidc/clients/${i}/clientSecretFile: cannot read ${c.clientSecretFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  });
}

/** Loads, validates and deep-freezes the configuration, or throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const file = opts.file ?? env.GATEHOUSE_CONFIG;
  let raw: Obj = file ? readFile(file, problems) : {};
  if (env.NODE_ENV === 'production' && raw.mode === undefined) raw.mode = 'production';

  for (const entry of readEnv(env, problems)) {
    const sub = schemaAt(ConfigSchema, entry.path);
    if (!sub) { problems.push(`${entry.name}: unknown setting (${entry.path.join('.')})`); continue; }
    const value = coerce(sub, entry.value);
    if (value instanceof Error) { problems.push(`${entry.name}: ${value.message}`); continue; }
    setPath(raw, entry.path, value);
  }
  if (opts.overrides) raw = merge(raw, opts.overrides);
  resolveClientSecretFiles(raw, problems);

  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw)) as Obj;
  for (const err of Value.Errors(ConfigSchema, withDefaults)) {
    problems.push(`${err.path || '/'}: ${err.message}`);
  }
  if (problems.length === 0) problems.push(...crossChecks(withDefaults as Config));
  if (problems.length) throw new ConfigError(dedupe(problems));
  return deepFreeze(withDefaults as Config);
}

const dedupe = (list: string[]) => [...new Set(list)];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
