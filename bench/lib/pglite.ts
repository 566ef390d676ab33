// A migrated PGlite data directory (the test suite's cached template), unpacked into each PGlite gateway's data directory, so a bench run
// does not spend a minute in initdb and migrations. The gateway then opens it as `npm start` would.
import { mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The test suite's migrated template (one builder for both). */
export { pgliteTemplateFile as pgliteTemplate } from '../../test/helpers/db.ts';

/** A data directory for the gateway (`dataDir`), with PGlite's files under dataDir/pglite as createDb expects. */
export function unpackInto(template: string, dataDir: string): void {
  const target = join(dataDir, 'pglite');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xf', template, '-C', target], { stdio: 'ignore' });
}
