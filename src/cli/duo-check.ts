// `gatehouse duo check`: Duo's health check with the configured credentials, and a plain sentence about
// what is wrong (credentials, clock skew, network, TLS). Never prints the secret.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import { createSdkDuoClient, type DuoClient } from '../mfa/duo/duo-client.ts';

type Out = (line: string) => void;

/** Allowed difference between our clock and Duo's before we warn (Duo rejects assertions beyond this). */
const MAX_SKEW_SECONDS = 60;

export async function duoCheck(config: Config, out: Out, err: Out, client?: DuoClient): Promise<number> {
  const d = config.mfa.duo;
  if (!d.clientId || !d.clientSecret || !d.apiHost) {
    err('Duo is not configured: set DUO_CLIENT_ID, DUO_CLIENT_SECRET (or DUO_CLIENT_SECRET_FILE) and DUO_API_HOST.');
    return 2;
  }
  if (!config.mfa.factors.includes('duo')) out('Note: duo is not in mfa.factors, so users are not offered Duo yet.');
  out(`Checking Duo at ${d.apiHost} with client id ${d.clientId} (timeout ${d.timeoutMs} ms)…`);
  let caPem: string | undefined;
  if (d.caFile) {
    try { caPem = readFileSync(d.caFile, 'utf8'); } catch { err(`mfa.duo.caFile: cannot read ${d.caFile}`); return 2; }
  }
  const c = client ?? createSdkDuoClient({ clientId: d.clientId, clientSecret: d.clientSecret, apiHost: d.apiHost, timeoutMs: d.timeoutMs, caPem });
  const started = Date.now();
  const r = await c.healthCheck();
  if (!r.ok) {
    err(`Duo health check FAILED — ${r.problem}`);
    if (r.problem.startsWith('credentials')) err('Also check that this machine\'s clock is correct: Duo rejects requests from a skewed clock.');
    return 1;
  }
  const ms = Date.now() - started;
  if (r.duoTime) {
    const skew = Math.round(Date.now() / 1000 - r.duoTime);
    if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      err(`Duo answered, but this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} Duo's: fix the clock (NTP), logins will fail.`);
      return 1;
    }
    out(`Clock difference with Duo: ${skew} s.`);
  }
  out(`Duo health check OK (${ms} ms).`);
  return 0;
}
