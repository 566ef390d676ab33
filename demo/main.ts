// `npm run demo`: Gatehouse with everything around it, on loopback, in one process.
//   - the gateway (buildApp in-process: the same code `npm start` runs), embedded database in .data/demo
//   - the Duo emulator (test only) in interactive mode, its CA trusted through mfa.duo.caFile
//   - a sample OIDC app, a sample SAML service provider and a third-party "partner" OIDC app (it asks for
//     consent), registered with the gateway
//   - a demo user with a password, an authenticator-app seed and recovery codes (printed below)
// Environment: DEMO_PORT (first port, default 3000: gateway; OIDC app +1, SAML SP +2, partner app +3, Duo +443),
// DEMO_DATA_DIR (default .data/demo), DEMO_LOG_LEVEL (default warn). `npm run demo -- --reset` starts afresh.
// Press Enter for the current authenticator code; Ctrl-C stops everything.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { codeAt, stepAt } from '../src/mfa/totp/totp-code.ts';
import { createLogger } from '../src/platform/logger.ts';
import { startStack, type Stack } from './stack.ts';
import { seedDemoUser } from './seed.ts';

const env = process.env;
const base = Number(env.DEMO_PORT ?? 3000);
if (!Number.isInteger(base) || base < 1 || base > 65535 - 443) {
  process.stderr.write(`DEMO_PORT must be a port number (got "${env.DEMO_PORT}")\n`);
  process.exit(2);
}
const dataDir = resolve(env.DEMO_DATA_DIR ?? '.data/demo');
if (process.argv.includes('--reset')) rmSync(dataDir, { recursive: true, force: true });

let stack: Stack | undefined;
try {
  stack = await startStack({
    dataDir,
    ports: { gateway: base, oidcApp: base + 1, samlSp: base + 2, partnerApp: base + 3, duo: base + 443 },
    log: createLogger(env.DEMO_LOG_LEVEL ?? 'warn'),
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`The demo could not start: ${e.message}\n`);
  if (e.code === 'EADDRINUSE') process.stderr.write(`A port is taken: set DEMO_PORT to another base (it uses ${base} to ${base + 3} and ${base + 443}).\n`);
  process.exit(1);
}
const s = stack;
const user = await seedDemoUser(s.gateway.services);
const gw = s.gateway.url;
const code = () => codeAt(user.totpSecret, stepAt(Date.now()));
const secondsLeft = () => 30 - Math.floor(Date.now() / 1000) % 30;

process.stdout.write(`
  Gatehouse demo: everything on loopback, embedded database in ${dataDir}

  Start here
    Sample OIDC app        ${s.oidcApp.url}
    Sample SAML SP         ${s.samlSp ? s.samlSp.url : '(SAML disabled)'}
    Partner app            ${s.partnerApp ? `${s.partnerApp.url}   (third party: Gatehouse asks you to allow it)` : '(disabled)'}
    Account portal         ${gw}/account

  Sign in as
    username               ${user.username}
    password               ${user.password}
    authenticator seed     ${user.totpSecret.match(/.{1,4}/g)!.join(' ')}   (or add ${user.otpauth} to an app)
    current code           ${code()}   (press Enter for a fresh one)
    recovery codes         ${user.recoveryCodes.join('  ')}
                           (new ones at every start; each works once)

  Duo                      choose "Duo" after the password: the emulator's page asks you to Approve, Deny or Cancel.
    Duo emulator           ${s.duo?.url ?? '(disabled)'}   TEST ONLY, with its own certificate authority: when the
                           browser warns about it, proceed (Advanced, then Proceed), or trust ${s.duo?.caFile ?? ''}.

  Under the hood
    Issuer                 ${gw}   (discovery: ${gw}/.well-known/openid-configuration)
    SAML IdP metadata      ${gw}/saml/metadata
    Health, metrics        ${gw}/readyz   ${gw}/metrics
    OIDC clients           demo-app, partner-app (secrets generated at each start, known only to the sample apps)

  Ctrl-C stops everything.

`);

if (process.stdin.isTTY) {
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', () => process.stdout.write(`  current code for ${user.username}: ${code()} (valid ${secondsLeft()} s more)\n`));
}

let stopping = false;
async function stop(signal: string) {
  if (stopping) { process.stdout.write('  forced stop\n'); process.exit(1); }
  stopping = true;
  process.stdout.write(`\n  ${signal}: stopping the demo…\n`);
  const deadline = setTimeout(() => { process.stderr.write('  did not stop within 10 s; exiting\n'); process.exit(1); }, 10_000);
  deadline.unref();
  await s.close();
  process.stdout.write('  stopped.\n');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
