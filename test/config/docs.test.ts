// docs/configuration.md is generated from the schema; this fails when someone changes one without the other.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../../src/config/docs.ts';
import { listSettings } from '../../src/config/settings.ts';
import { ENV_ALIASES } from '../../src/config/env-names.ts';

const DOCS = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

t.test('docs/configuration.md is up to date with the schema', async (t) => {
  t.ok(readFileSync(DOCS, 'utf8') === renderConfigDocs(), 'docs/configuration.md is stale: run `npm run docs:config` and commit the result');
});

t.test('the reference lists every setting, its variables, and marks the secret ones', async (t) => {
  const docs = renderConfigDocs();
  // Rows by the heading they sit under.
  const sections = new Map<string, string[]>();
  let heading = '';
  for (const line of docs.split('\n')) {
    if (line.startsWith('### ')) { heading = line.slice(4); sections.set(heading, []); }
    else if (line.startsWith('| `') && heading) sections.get(heading)!.push(line);
  }
  for (const s of listSettings()) {
    const item = s.path.indexOf('[]');
    const [section, key] = item >= 0
      ? [`${s.path.slice(0, item).join('.')}[] (each item)`, s.path.slice(item + 1).join('.').replace(/\.\[\]/g, '[]')]
      : s.path.length === 1 ? ['General', s.path[0]!] : [s.path.slice(0, -1).join('.'), s.path.at(-1)!];
    const row = sections.get(section)?.find((r) => r.startsWith(`| \`${key}\` |`));
    t.ok(row, `a row for ${s.path.join('.')} under ${section}`);
    if (!row) continue;
    for (const e of s.env) t.ok(row.includes(`\`${e}\``), `${e} is listed`);
    if (s.env.length === 0) t.ok(row.includes('| — |'), 'no variable of its own');
    t.equal(row.includes('**secret**'), s.secret, `${s.path.join('.')} ${s.secret ? 'is' : 'is not'} marked secret`);
  }
  for (const name of Object.keys(ENV_ALIASES)) t.match(docs, `| \`${name}\` |`, `the short name ${name} is listed`);
  t.match(docs, /`\*_FILE` variables/, 'the _FILE rule is explained');
  t.match(docs, /defaults listed below;\n2\. the file named by `GATEHOUSE_CONFIG`.*\n3\. environment variables;\n4\. `\*_FILE` variables/, 'the precedence is spelled out in order');
});
