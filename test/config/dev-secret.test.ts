// The development master secret: generated once into the data directory, kept private, reused; never in production.
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.ts';
import { withSecret } from '../../src/config/dev-secret.ts';
import type { Config } from '../../src/config/schema.ts';
import { SECRET } from './fixtures.ts';

t.test('generated once, mode 0600, and reused on the next start', async (t) => {
  const dataDir = join(t.testdir({}), 'data');
  const first = withSecret(loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir } }));
  t.equal(first.generated, true);
  t.ok(first.config.secret!.length >= 32);
  t.equal(readFileSync(join(dataDir, 'dev-secret'), 'utf8'), first.config.secret);
  t.equal(statSync(join(dataDir, 'dev-secret')).mode & 0o777, 0o600);
  t.ok(Object.isFrozen(first.config));
  const second = withSecret(loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir } }));
  t.equal(second.config.secret, first.config.secret, 'the same secret after a restart');
});

t.test('a configured secret is used as is', async (t) => {
  const config = loadConfig({ env: { GATEHOUSE_SECRET: SECRET } });
  const r = withSecret(config);
  t.equal(r.generated, false);
  t.equal(r.config, config);
});

t.test('production never gets a generated secret', async (t) => {
  // loadConfig refuses this first; withSecret holds the line on its own too.
  const config = { ...loadConfig({ env: {} }), mode: 'production' } as Config;
  t.throws(() => withSecret(config), ConfigError);
});
