// The XML and crypto stack must not fall below versions with known signature-bypass fixes. npm audit
// (run by .ci/run) covers the rest when the registry offers it; this check works offline.
import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.ts';

/** Minimum versions and why. */
const MINIMUM: Record<string, { min: string; why: string }> = {
  samlify: { min: '2.10.0', why: 'CVE-2025-47949 signature wrapping' },
  'xml-crypto': { min: '6.0.1', why: 'CVE-2025-29774 / CVE-2025-29775 signature bypass' },
  '@xmldom/xmldom': { min: '0.8.11', why: 'GHSA-5fg8-2547-mr8q and earlier parser fixes' },
  'oidc-provider': { min: '9.0.0', why: 'current major with security fixes' },
  jose: { min: '6.0.0', why: 'current major' },
};

const cmp = (a: string, b: string) => {
  const pa = a.split('-')[0]!.split('.').map(Number); const pb = b.split('-')[0]!.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

/** Every installed copy of a package (nested ones too), so a stale transitive copy cannot hide. */
function installedVersions(name: string, dir = join(ROOT, 'node_modules')): string[] {
  const out: string[] = [];
  const pkg = join(dir, name, 'package.json');
  if (existsSync(pkg)) out.push(JSON.parse(readFileSync(pkg, 'utf8')).version);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin' || entry.name === '.cache') continue;
    const sub = entry.name.startsWith('@') ? readdirSync(join(dir, entry.name)).map((n) => join(dir, entry.name, n)) : [join(dir, entry.name)];
    for (const s of sub) if (existsSync(join(s, 'node_modules'))) out.push(...installedVersions(name, join(s, 'node_modules')));
  }
  return out;
}

for (const [name, { min, why }] of Object.entries(MINIMUM)) {
  t.test(`${name} >= ${min} (${why})`, async (t) => {
    const versions = installedVersions(name);
    t.ok(versions.length > 0, `${name} is installed`);
    for (const v of versions) t.ok(cmp(v, min) >= 0, `${name}@${v} >= ${min}`);
  });
}
