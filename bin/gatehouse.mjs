#!/usr/bin/env node
// The `gatehouse` command. Plain JavaScript that parses on any Node, so an old Node gets a clear
// message instead of a syntax error: the sources are TypeScript run through Node's type stripping.
const [major, minor] = process.versions.node.split('.').map(Number);
const recentEnough = major > 22 || (major === 22 && minor >= 18);
// Present since Node 22.10: false when type stripping is switched off (--no-experimental-strip-types).
const stripping = process.features.typescript === undefined ? recentEnough : Boolean(process.features.typescript);

if (!recentEnough || !stripping) {
  process.stderr.write([
    `gatehouse: this is Node.js ${process.version} (${process.execPath})${recentEnough ? ' with TypeScript type stripping switched off' : ''}.`,
    'Gatehouse needs Node.js >= 22.18 with type stripping (Node.js 24 recommended).',
    'On Linux x64, `npm install` puts Node.js 24 in node_modules/.bin: run the command as',
    '`npx gatehouse ...` or `npm run gatehouse -- ...` from the project directory, which use it.',
    '',
  ].join('\n'));
  process.exit(1);
}

const { runMain } = await import('../src/cli/main.ts');
await runMain();
