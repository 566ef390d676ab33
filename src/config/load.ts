// Loads the configuration: schema defaults → file (GATEHOUSE_CONFIG, YAML or JSON) → environment → *_FILE.
// All problems are collected and reported together, each with its path and the variables that set it;
// secret values are never echoed.
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.ts';
import { readEnv, readError, readSecretFile } from './env.ts';
import { readConfigFile } from './file.ts';
import { applyDefaults } from './defaults.ts';
import { describeError } from './messages.ts';
import { overlaps, renderProblem, type Problem } from './problems.ts';
import { scrub, secretValues } from './redact.ts';
import { crossChecks } from './validate.ts';
import type { Node } from './settings.ts';

/** Every problem found in one load, each already safe to print (no secret value in any of them). */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file; defaults to env.GATEHOUSE_CONFIG. */
  file?: string;
  /** Applied last (tests and embedding), deep-merged over everything else. */
  overrides?: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const schema = ConfigSchema as Node;

/** Assigns as an own property: a key such as "__proto__" must stay data (and be reported as unknown). */
const put = (target: Obj, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

function setPath(target: Obj, path: string[], value: unknown) {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (!isObj(cur[key])) put(cur, key, {});
    cur = cur[key] as Obj;
  }
  put(cur, path[path.length - 1]!, value);
}

function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) put(out, k, isObj(v) && isObj(out[k]) ? merge(out[k] as Obj, v) : v);
  return out;
}

/** Resolves `clientSecretFile` of each OIDC client into `clientSecret`; returns the secrets read. */
function resolveClientSecretFiles(raw: Obj, problems: Problem[]): string[] {
  const read: string[] = [];
  const clients = isObj(raw.oidc) ? raw.oidc.clients : undefined;
  if (!Array.isArray(clients)) return read;
  clients.forEach((c: unknown, i) => {
    if (!isObj(c) || typeof c.clientSecretFile !== 'string') return;
    const at = `/oidc/clients/${i}`;
    if (c.clientSecret !== undefined) {
      problems.push({ pointer: `${at}/clientSecret`, text: 'set clientSecret or clientSecretFile, not both' });
      return;
    }
    try {
      c.clientSecret = readSecretFile(c.clientSecretFile);
      read.push(c.clientSecret as string);
    } catch (err) {
      // The file name is not shown: it is sometimes the secret itself, pasted into the wrong key.
      problems.push({ pointer: `${at}/clientSecretFile`, text: `cannot read the file it names (${readError(err)})` });
    }
  });
  return read;
}

/** NODE_ENV=production means production, unless the config says otherwise, which is then a contradiction. */
function applyNodeEnv(raw: Obj, env: NodeJS.ProcessEnv, problems: Problem[]) {
  if (env.NODE_ENV !== 'production') return;
  if (raw.mode === undefined) raw.mode = 'production';
  else if (raw.mode === 'development') {
    problems.push({ pointer: '/mode', text: 'is development, but NODE_ENV=production; remove one of the two (production mode refuses dev-only values)' });
  }
}

function schemaProblems(config: unknown): Problem[] {
  const out: Problem[] = [];
  for (const e of Value.Errors(ConfigSchema, config)) {
    const pointer = e.path || '/';
    // One message per setting, and none beneath a setting that is already wrong as a whole.
    if (out.some((p) => p.pointer === pointer || pointer.startsWith(`${p.pointer}/`))) continue;
    out.push({ pointer, text: describeError(e) });
  }
  return out;
}

/** Loads, validates and deep-freezes the configuration, or throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: Problem[] = [];
  const file = opts.file ?? (env.GATEHOUSE_CONFIG || undefined);
  const fromFile = file ? readConfigFile(file, problems) : {};
  // A copy: the layers above write into it, and the file's own values are kept apart for redaction.
  let raw = structuredClone(fromFile);

  const entries = readEnv(env, problems);
  for (const entry of entries) setPath(raw, entry.path, entry.value);
  applyNodeEnv(raw, env, problems);
  if (opts.overrides) raw = merge(raw, structuredClone(opts.overrides));
  const fileSecrets = resolveClientSecretFiles(raw, problems);

  const config = applyDefaults(schema, raw) as Config;
  // A key that already failed while loading (unreadable file, conflict) is not reported again by the schema,
  // and the cross-field rules skip what any earlier problem touches.
  const failed = (pointer: string, list: Problem[]) => list.some((q) => q.pointer !== undefined && overlaps(q.pointer, pointer));
  // Only at or below the key that failed: a wrong section above it (`server:` left empty while PORT_FILE is
  // unreadable) is still reported, and so keeps the cross-field rules away from it.
  const below = (pointer: string, list: Problem[]) => list.some((q) => q.pointer !== undefined && (pointer === q.pointer || pointer.startsWith(`${q.pointer}/`)));
  problems.push(...schemaProblems(config).filter((p) => !below(p.pointer!, problems)));
  const known = [...problems];
  problems.push(...crossChecks(config, (pointer) => failed(pointer, known)));

  if (problems.length) {
    const secrets = [
      ...[...secretValues(schema, fromFile), ...secretValues(schema, config)].map((s) => s.value),
      ...fileSecrets, ...entries.filter((e) => e.secret).map((e) => String(e.value)),
    ];
    throw new ConfigError([...new Set(problems.map((p) => scrub(renderProblem(p), secrets)))]);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
