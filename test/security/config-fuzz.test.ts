// The config loader under arbitrary input (fast-check): any config file (JSON, YAML, truncated, binary junk,
// alias bombs, deep nesting, __proto__ keys), any environment (every known variable, *_FILE forms naming a
// missing file, a directory, an oversized file, a binary file, /dev/zero, or a file holding a secret, and
// unknown GATEHOUSE_* names). loadConfig either returns a valid frozen config or throws ConfigError listing
// the problems; never another exception, never a planted secret (or its tail) in the message, and each
// load is quick (under LOAD_BUDGET_MS). Files are read bounded: 1 MiB for *_FILE, 4 MiB for GATEHOUSE_CONFIG.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { listSettings } from '../../src/config/settings.ts';
import { MAX_VALUE_FILE_BYTES } from '../../src/config/env.ts';
import { MAX_CONFIG_FILE_BYTES } from '../../src/config/file.ts';

/** Runs per property: 400 by default (a few seconds), GATEHOUSE_FUZZ_RUNS=<n> for a longer search. */
const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS) || 400;
// Loads take milliseconds; the budget leaves room for a busy CI machine and still catches a hang or a blow-up.
const LOAD_BUDGET_MS = 2000;

// Distinctive values planted in secret-bearing settings only; some valid, some not (so they sit inside
// configurations that fail), none short enough to be skipped by the redaction net (4 characters).
const hex = (n: number) => randomBytes(n).toString('hex');
const SECRETS = {
  master: `PLANTED-master-${hex(16)}`, // 47 characters: valid
  masterShort: `PLANTED-ms-${hex(4)}`, // too short for /secret
  duo: `PLANTED-duo-${hex(14)}`, // 40: valid
  duoLong: `PLANTED-duo-${hex(15)}`, // 42: too long
  db: `postgres://gh:PLANTED-db-${hex(8)}@db.example:5432/gh`,
  metrics: `PLANTED-metrics-${hex(8)}`,
  client: `PLANTED-client-${hex(8)}`,
  clientShort: `PLANTED-c${hex(2)}`,
  file: `PLANTED-file-${hex(16)}`,
};
const PLANTED = Object.values(SECRETS);

const dir = t.testdir({});
const FILES = {
  missing: join(dir, 'no-such-file'),
  directory: join(dir, 'a-directory'),
  oversized: join(dir, 'oversized'),
  oversizedConfig: join(dir, 'oversized.yaml'),
  binary: join(dir, 'binary'),
  empty: join(dir, 'empty'),
  secret: join(dir, 'secret'),
  devZero: '/dev/zero',
};
mkdirSync(FILES.directory);
writeFileSync(FILES.oversized, Buffer.alloc(MAX_VALUE_FILE_BYTES + 1, 'A'));
writeFileSync(FILES.oversizedConfig, `server:\n  port: 1\n#${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`);
writeFileSync(FILES.binary, Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]), randomBytes(4096)]));
writeFileSync(FILES.empty, '');
writeFileSync(FILES.secret, `${SECRETS.file}\n`);
const fileTarget = fc.constantFrom(...Object.values(FILES));

const settings = listSettings();
const secretPaths = settings.filter((s) => s.secret && !s.path.includes('[]')).map((s) => s.path);
const plainPaths = settings.filter((s) => !s.secret && !s.path.includes('[]')).map((s) => s.path);
const secretEnv = settings.filter((s) => s.secret).flatMap((s) => s.env);
const plainEnv = settings.filter((s) => !s.secret).flatMap((s) => s.env);

// ---- arbitraries ----------------------------------------------------------------------------------------

const planted = fc.constantFrom(...PLANTED);
const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('', '0', '-1', '65536', 'true', 'production', 'development', 'https://sso.example', 'http://x', '#1f5fbf', 'dev-only-x'));
const anyValue = fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const hostileKey = fc.constantFrom<string[]>(['__proto__'], ['constructor', 'prototype'], ['server', '__proto__'], ['serevr', 'port'], ['oidc', 'clients', '0']);

/** A client entry with a planted secret (through clientSecret or clientSecretFile) and random other keys. */
const clientArb = fc.record({
  clientId: fc.oneof(fc.constant('app'), fc.string({ maxLength: 10 })),
  secretVia: fc.constantFrom('value', 'file', 'both'),
  secret: fc.constantFrom(SECRETS.client, SECRETS.clientShort),
  file: fileTarget,
  extra: fc.dictionary(fc.constantFrom('redirectUris', 'grantTypes', 'tokenEndpointAuthMethod', 'mfa', 'bogus', 'scopes'), anyValue, { maxKeys: 3 }),
}).map((c) => ({
  clientId: c.clientId, ...c.extra,
  ...(c.secretVia !== 'file' ? { clientSecret: c.secret } : {}), ...(c.secretVia !== 'value' ? { clientSecretFile: c.file } : {}),
}));

type Obj = Record<string, unknown>;
function setIn(target: Obj, path: string[], value: unknown) {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null || Array.isArray(cur[key])) Object.defineProperty(cur, key, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[key] as Obj;
  }
  Object.defineProperty(cur, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

/** A document shaped like a config: known settings with random values, planted secrets, hostile keys. */
const configDoc = fc.record({
  plain: fc.array(fc.tuple(fc.constantFrom(...plainPaths), anyValue), { maxLength: 10 }),
  secrets: fc.array(fc.tuple(fc.constantFrom(...secretPaths), planted), { maxLength: 4 }),
  hostile: fc.array(fc.tuple(hostileKey, anyValue), { maxLength: 2 }),
  clients: fc.option(fc.array(clientArb, { maxLength: 2 }), { nil: undefined }),
}).map((d) => {
  const doc: Obj = {};
  for (const [path, v] of [...d.plain, ...d.secrets, ...d.hostile]) setIn(doc, path, v);
  if (d.clients) setIn(doc, ['oidc', 'clients'], d.clients);
  return doc;
});

/** The config file: a config-shaped or arbitrary document, written as JSON or YAML, maybe truncated; or junk. */
const configFile = fc.oneof(
  fc.record({ doc: fc.oneof({ weight: 4, arbitrary: configDoc }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) }), as: fc.constantFrom('json', 'yaml'), cut: fc.option(fc.nat(), { nil: undefined }) })
    .map(({ doc, as, cut }) => {
      const text = as === 'json' ? JSON.stringify(doc) ?? 'null' : toYaml(doc);
      return { ext: as, body: cut === undefined ? text : text.slice(0, cut % (text.length + 1)) };
    }),
  fc.record({ ext: fc.constantFrom('json', 'yaml'), body: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })) }),
  fc.constantFrom(
    { ext: 'yaml', body: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n' },
    { ext: 'yaml', body: `server: !!binary aGVsbG8=\nsecret: !!str ${SECRETS.masterShort}\nmfa: !custom {x: 1}\n` },
    { ext: 'json', body: `{"secret": "${SECRETS.masterShort}", "server": ${'['.repeat(20000)}${']'.repeat(20000)}}` },
    { ext: 'yaml', body: `secret: "${SECRETS.masterShort}\nserver: {port: [` },
    { ext: 'json', body: `{"__proto__": {"secret": "${SECRETS.master}"}, "database": {"url": "${SECRETS.db}", "poolMax": "ten"}}` },
  ),
);

/** The environment: known variables (secret ones may hold planted values), *_FILE forms, unknown names. */
const envArb = fc.record({
  plain: fc.dictionary(fc.constantFrom(...plainEnv, 'GATEHOUSE_SERVER', 'GATEHOUSE_SERVR__PORT', 'GATEHOUSE_X', 'NODE_ENV', 'GATEHOUSE_OIDC__CLIENTS'),
    fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '8080', 'yes', '[1,2', '[{"clientId":"a"}]', 'production', 'a,b,,c', `${'['.repeat(50_000)}${']'.repeat(50_000)}`)), { maxKeys: 5 }),
  secret: fc.dictionary(fc.constantFrom(...secretEnv), planted, { maxKeys: 3 }),
  files: fc.dictionary(fc.constantFrom(...[...secretEnv, ...plainEnv].map((n) => `${n}_FILE`)), fileTarget, { maxKeys: 3 }),
  config: fc.oneof({ weight: 5, arbitrary: fc.constant('doc') }, { weight: 1, arbitrary: fileTarget }, { weight: 1, arbitrary: fc.constant('none') }),
  clients: fc.option(fc.array(clientArb, { maxLength: 2 }), { nil: undefined }),
});

// ---- the property ------------------------------------------------------------------------------------

interface Verdict { ok: boolean; why?: string; loaded: boolean; ms: number }

/** Loads once; the verdict says whether every promise held. */
function check(env: Record<string, string>): Verdict {
  const started = performance.now();
  let loaded = false;
  try {
    const config = loadConfig({ env });
    loaded = true;
    if (!Value.Check(ConfigSchema, config)) return { ok: false, why: 'returned a config the schema rejects', loaded, ms: 0 };
    if (!Object.isFrozen(config)) return { ok: false, why: 'returned a config that is not frozen', loaded, ms: 0 };
  } catch (err) {
    if (!(err instanceof ConfigError)) return { ok: false, why: `threw ${(err as Error)?.stack?.split('\n').slice(0, 4).join(' | ')}${configText(env)}`, loaded, ms: 0 };
    if (err.problems.length === 0) return { ok: false, why: 'ConfigError without problems', loaded, ms: 0 };
    const leaked = PLANTED.find((s) => err.message.includes(s) || err.message.includes(s.slice(-12)));
    if (leaked) return { ok: false, why: `echoed a planted secret (${leaked.slice(0, 12)}…): ${err.message}`, loaded, ms: 0 };
  }
  const ms = performance.now() - started;
  if (ms > LOAD_BUDGET_MS) return { ok: false, why: `took ${Math.round(ms)} ms`, loaded, ms };
  return { ok: true, loaded, ms };
}

/** The generated config file of a failing run, for the report (the test directory is removed afterwards). */
function configText(env: Record<string, string>): string {
  const file = env.GATEHOUSE_CONFIG;
  return file?.startsWith(join(dir, 'config-')) ? ` — ${file.split('/').at(-1)}: ${readFileSync(file, 'utf8').slice(0, 1500)}` : '';
}

function assertProperty(t: Test, name: string, arb: fc.Arbitrary<Record<string, string>>) {
  const seen = { loaded: 0, refused: 0, slowest: 0 };
  let failure: string | undefined;
  const result = fc.check(fc.property(arb, (env) => {
    const v = check(env);
    if (!v.ok) { failure = v.why; return false; }
    seen[v.loaded ? 'loaded' : 'refused']++;
    seen.slowest = Math.max(seen.slowest, v.ms);
    return true;
  }), { numRuns: RUNS });
  t.notOk(result.failed, `${name}: every load returned a valid config or a clean ConfigError${result.failed ? ` — counterexample ${JSON.stringify(result.counterexample)}: ${failure}` : ''}`);
  t.ok(seen.refused > 0, `${name}: ${seen.refused} loads refused with a ConfigError`);
  t.comment(`${name}: ${RUNS} runs, ${seen.loaded} loaded, ${seen.refused} refused, slowest ${Math.round(seen.slowest)} ms (budget ${LOAD_BUDGET_MS} ms)`);
}

let files = 0;
/** Writes the config file of one run (each run its own file, so a shrink never reads a later run's). */
const writeConfig = (f: { ext: string; body: string }) => {
  const file = join(dir, `config-${++files}.${f.ext}`);
  writeFileSync(file, f.body);
  return file;
};

t.test('arbitrary config files and environments', async (t) => {
  assertProperty(t, 'file + environment', fc.tuple(configFile, envArb).map(([f, e]) => {
    const env: Record<string, string> = { ...e.plain, ...e.secret, ...e.files };
    if (e.clients) env.GATEHOUSE_OIDC__CLIENTS = JSON.stringify(e.clients);
    if (e.config === 'doc') env.GATEHOUSE_CONFIG = writeConfig(f);
    else if (e.config !== 'none') env.GATEHOUSE_CONFIG = e.config;
    return env;
  }));
});

t.test('config-shaped files alone (deeper into validation)', async (t) => {
  assertProperty(t, 'config-shaped file', fc.tuple(configDoc, fc.constantFrom('json', 'yaml'), fc.boolean()).map(([doc, ext, production]) => ({
    GATEHOUSE_CONFIG: writeConfig({ ext, body: ext === 'json' ? JSON.stringify(doc) : toYaml(doc) }),
    ...(production ? { NODE_ENV: 'production' } : {}),
  })));
});

t.test('each hostile file, named by each kind of variable: a problem naming the setting, no secret', async (t) => {
  for (const [kind, file] of Object.entries(FILES)) {
    for (const name of ['GATEHOUSE_SECRET_FILE', 'DUO_CLIENT_SECRET_FILE', 'PORT_FILE', 'GATEHOUSE_OIDC__CLIENTS_FILE', 'GATEHOUSE_CONFIG']) {
      const v = check({ [name]: file });
      t.ok(v.ok, `${name}=${kind}: ${v.why ?? (v.loaded ? 'loaded' : 'refused cleanly')}`);
    }
  }
  t.match(problems({ GATEHOUSE_SECRET_FILE: FILES.devZero }), [/^\/secret \(GATEHOUSE_SECRET_FILE\): cannot read the file it names \(larger than 1 MiB\)$/]);
  t.match(problems({ GATEHOUSE_SECRET_FILE: FILES.oversized }), [/larger than 1 MiB/]);
  t.match(problems({ GATEHOUSE_CONFIG: FILES.oversizedConfig }), [/is larger than 4 MiB/]);
  t.match(problems({ GATEHOUSE_CONFIG: FILES.devZero }), [/is larger than 4 MiB/]);
  t.match(problems({ PORT_FILE: FILES.secret }), [/^\/server\/port \(PORT_FILE\): must be a whole number$/], 'a bad value from a file is not repeated');
  t.match(problems({ DUO_CLIENT_SECRET_FILE: FILES.binary }), [/^\/mfa\/duo\/clientSecret \(.*\): must be exactly 40 characters$/], 'binary junk is a wrong value, not a crash');
});

function problems(env: Record<string, string>): string[] {
  try { loadConfig({ env }); } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; }
  return [];
}
