// Standalone Duo emulator for local demos and manual testing:
//   npm run duo-emulator
// Environment:
//   DUO_EMULATOR_PORT      listen port (default 8443, 0 = ephemeral)
//   DUO_EMULATOR_HOST      listen address (default 127.0.0.1)
//   DUO_EMULATOR_CA_FILE   where the CA PEM is written (default ./.data/duo-emulator-ca.pem)
//   DUO_CLIENT_ID / DUO_CLIENT_SECRET  app credentials (20 / 40 chars; generated if unset)
//   DUO_EMULATOR_OUTCOME   default outcome (default interactive)
//   DUO_EMULATOR_OUTCOMES  per-user outcomes, e.g. "alice=allow,mallory=fraud"
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { startDuoEmulator } from './emulator.ts';
import type { EmulatorApp, Outcome } from './emulator.ts';

const OUTCOMES: readonly string[] = [
  'allow',
  'deny',
  'fraud',
  'bypass',
  'error_redirect',
  'no_redirect',
  'interactive',
] satisfies Outcome[];

function die(message: string): never {
  console.error(`duo-emulator: ${message}`);
  process.exit(1);
}

function outcome(value: string, where: string): Outcome {
  if (!OUTCOMES.includes(value)) die(`${where}: unknown outcome "${value}" (one of ${OUTCOMES.join(', ')})`);
  return value as Outcome;
}

const env = process.env;
const port = Number(env.DUO_EMULATOR_PORT ?? 8443);
if (!Number.isInteger(port) || port < 0 || port > 65535) die(`bad DUO_EMULATOR_PORT "${env.DUO_EMULATOR_PORT}"`);
const caFile = resolve(env.DUO_EMULATOR_CA_FILE ?? './.data/duo-emulator-ca.pem');

let apps: EmulatorApp[] | undefined;
if (env.DUO_CLIENT_ID || env.DUO_CLIENT_SECRET) {
  if (!env.DUO_CLIENT_ID || !env.DUO_CLIENT_SECRET) die('set both DUO_CLIENT_ID and DUO_CLIENT_SECRET, or neither');
  apps = [{ clientId: env.DUO_CLIENT_ID, clientSecret: env.DUO_CLIENT_SECRET }];
}

const emu = await startDuoEmulator({
  port,
  host: env.DUO_EMULATOR_HOST ?? '127.0.0.1',
  ...(apps ? { apps } : {}),
  defaultOutcome: outcome(env.DUO_EMULATOR_OUTCOME ?? 'interactive', 'DUO_EMULATOR_OUTCOME'),
  onRequest: (r) =>
    console.log(
      `${new Date(r.at).toISOString()} ${r.method} ${r.path} ${r.status || 'no answer'}` +
        `${r.clientId ? ` client=${r.clientId}` : ''}${r.error ? ` error="${r.error}"` : ''}` +
        `${r.warning ? ` warning="${r.warning}"` : ''}`,
    ),
}).catch((err: Error) => die(err.message));

for (const pair of (env.DUO_EMULATOR_OUTCOMES ?? '').split(',').filter(Boolean)) {
  const [user, value] = pair.split('=');
  if (!user || !value) die(`DUO_EMULATOR_OUTCOMES: expected user=outcome, got "${pair}"`);
  emu.setOutcome(user, outcome(value, 'DUO_EMULATOR_OUTCOMES'));
}

await mkdir(dirname(caFile), { recursive: true });
await writeFile(caFile, emu.caPem);

// A test tool: printing the secret is deliberate, so a demo can be wired by hand.
console.log(`Duo emulator (TEST ONLY) listening
  apiHost:         ${emu.apiHost}
  client id:       ${emu.clientId}
  client secret:   ${emu.clientSecret}
  CA file:         ${caFile}
  default outcome: ${env.DUO_EMULATOR_OUTCOME ?? 'interactive'}
The SDK trusts only Duo's pinned CAs: set client['axios'].defaults.httpsAgent = new https.Agent({ ca })
with the CA file above (NODE_EXTRA_CA_CERTS does not work). Ctrl-C to stop.`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`duo-emulator: ${signal}, closing`);
  await emu.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
