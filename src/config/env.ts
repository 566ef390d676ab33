// Environment overlay: short names from the public contract, plus GATEHOUSE_<SECTION>__<KEY> for every key.
// Any of them may be given as <NAME>_FILE instead, holding the value in a file (Docker/Kubernetes secrets);
// the file wins over the plain variable. An empty variable counts as unset (compose's `FOO: ${FOO:-}`).
import { readBounded, readError as whyUnreadable } from '../platform/read-bounded.ts';
import { ConfigSchema } from './schema.ts';
import { envPath } from './env-names.ts';
import { listSettings, schemaAt, type Node } from './settings.ts';
import { coerce } from './coerce.ts';
import { didYouMean } from './suggest.ts';
import type { Problem } from './problems.ts';

export { ENV_ALIASES, envPath } from './env-names.ts';

export interface EnvEntry {
  name: string;
  path: string[];
  value: unknown;
  /** Came from a *_FILE variable: always treated as secret. */
  fromFile: boolean;
  secret: boolean;
}

/** A setting a variable can carry: a leaf or a list, never a whole section. */
function settable(path: string[] | undefined): Node | undefined {
  const node = path && schemaAt(ConfigSchema, path);
  return node && node.type !== 'object' ? node : undefined;
}

const pointerOf = (path: string[]) => `/${path.join('/')}`;

/** Largest file a *_FILE variable or clientSecretFile may name; the config file may be larger (see file.ts). */
export const MAX_VALUE_FILE_BYTES = 1024 * 1024;

/** Why a *_FILE (or clientSecretFile) could not be read, without its name. */
export const readError = (err: unknown) => whyUnreadable(err, `larger than ${MAX_VALUE_FILE_BYTES / 1048576} MiB`);

/** Docker secrets end with a newline that is not part of the value. */
export const readSecretFile = (file: string) => readBounded(file, MAX_VALUE_FILE_BYTES).toString('utf8').replace(/\r?\n$/, '');

let knownNames: string[] | undefined;
const allEnvNames = () => (knownNames ??= listSettings().flatMap((s) => s.env));

/** Classifies one variable: a plain setting, a *_FILE setting, a section or unknown GATEHOUSE_* name, or not ours. */
function classify(name: string): { path: string[]; schema: Node; fromFile: boolean } | 'unknown' | 'section' | undefined {
  const direct = envPath(name);
  const directNode = settable(direct);
  // A setting whose own name ends in _FILE (mfa.duo.caFile) is a plain variable, not a file indirection.
  if (directNode) return { path: direct!, schema: directNode, fromFile: false };
  if (name.endsWith('_FILE')) {
    const base = envPath(name.slice(0, -'_FILE'.length));
    const baseNode = settable(base);
    if (baseNode) return { path: base!, schema: baseNode, fromFile: true };
  }
  if (!direct) return undefined;
  return schemaAt(ConfigSchema, direct)?.type === 'object' ? 'section' : 'unknown';
}

/** Reads, types and checks the config variables. Problems are collected; bad values are left out. */
export function readEnv(env: NodeJS.ProcessEnv, problems: Problem[]): EnvEntry[] {
  const layers: [EnvEntry[], EnvEntry[]] = [[], []];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === '') continue;
    const kind = classify(name);
    if (kind === undefined) continue;
    if (kind === 'section') {
      problems.push({ env: name, text: `names a whole section; set its keys one by one (${name}__<KEY>, see docs/configuration.md)` });
      continue;
    }
    if (kind === 'unknown') {
      problems.push({ env: name, text: `unknown setting (GATEHOUSE_* variables must name a setting; see docs/configuration.md)${didYouMean(name, allEnvNames())}` });
      continue;
    }
    const pointer = pointerOf(kind.path);
    let text = raw;
    if (kind.fromFile) {
      try { text = readSecretFile(raw); } catch (err) {
        problems.push({ pointer, env: name, text: `cannot read the file it names (${readError(err)})` });
        continue;
      }
    }
    const value = coerce(kind.schema, text);
    if (value instanceof Error) { problems.push({ pointer, env: name, text: value.message }); continue; }
    const secret = kind.fromFile || kind.schema.secret === true;
    layers[kind.fromFile ? 1 : 0].push({ name, path: kind.path, value, fromFile: kind.fromFile, secret });
  }
  for (const layer of layers) reportConflicts(layer, problems);
  return [...layers[0], ...layers[1]];
}

/** Two spellings of one setting (PORT and GATEHOUSE_SERVER__PORT) with different values: which one was meant? */
function reportConflicts(entries: EnvEntry[], problems: Problem[]) {
  const byPath = new Map<string, EnvEntry[]>();
  for (const e of entries) byPath.set(pointerOf(e.path), [...(byPath.get(pointerOf(e.path)) ?? []), e]);
  for (const [pointer, list] of byPath) {
    const distinct = new Set(list.map((e) => JSON.stringify(e.value)));
    if (distinct.size > 1) {
      problems.push({
        pointer, env: list.map((e) => e.name).sort().join(' and '),
        text: 'set by more than one variable, to different values; keep only one',
      });
    }
  }
}
