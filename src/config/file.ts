// Reads the config file named by GATEHOUSE_CONFIG: JSON when it ends in .json, YAML otherwise.
// Parse errors give a line and column but never the source text around it, which may hold a secret.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Problem } from './problems.ts';
import { readBounded } from '../platform/read-bounded.ts';
import { MAX_CONFIG_DEPTH, nestedDeeper } from './coerce.ts';

/** Largest config file read (inline SP metadata makes big ones possible; anything beyond is a mistake). */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonError(err: Error): string {
  const at = /line (\d+) column (\d+)/.exec(err.message);
  if (at) return `not valid JSON (line ${at[1]}, column ${at[2]})`;
  const pos = /position (\d+)/.exec(err.message);
  return pos ? `not valid JSON (at character ${pos[1]})` : 'not valid JSON';
}

function yamlError(err: unknown): string {
  if (!(err instanceof YAMLParseError)) return 'not valid YAML';
  const at = err.linePos?.[0];
  // The code is fixed vocabulary (BAD_INDENT, DUPLICATE_KEY…); the message may quote the source.
  const what = err.code.toLowerCase().replace(/_/g, ' ');
  return `not valid YAML (${what}${at ? ` at line ${at.line}, column ${at.col}` : ''})`;
}

/** The parsed top-level mapping, or {} with a problem recorded. */
export function readConfigFile(file: string, problems: Problem[]): Obj {
  const env = 'GATEHOUSE_CONFIG';
  let text: string;
  try { text = readBounded(file, MAX_CONFIG_FILE_BYTES).toString('utf8'); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ env, text: code === 'EFBIG' ? `${file} is larger than ${MAX_CONFIG_FILE_BYTES / 1048576} MiB` : `cannot read ${file} (${code ?? 'error'})` });
    return {};
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    problems.push({ env, text: `${file}: ${file.endsWith('.json') ? jsonError(err as Error) : yamlError(err)}` });
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (nestedDeeper(doc, MAX_CONFIG_DEPTH)) { problems.push({ env, text: `${file}: nested deeper than ${MAX_CONFIG_DEPTH} levels` }); return {}; }
  if (!isObj(doc)) { problems.push({ env, text: `${file}: the top level must be a mapping of settings` }); return {}; }
  return doc;
}
