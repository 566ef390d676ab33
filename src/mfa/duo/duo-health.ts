// Duo's health check under a deadline, cached briefly so a burst of logins makes one call, not hundreds.
import type { DuoClient } from './duo-client.ts';

export interface DuoHealth { check(): Promise<{ ok: boolean; problem?: string }> }

export function createDuoHealth(client: DuoClient, cacheSeconds: number, now = () => Date.now()): DuoHealth {
  let cached: { at: number; result: { ok: boolean; problem?: string } } | undefined;
  let inflight: Promise<{ ok: boolean; problem?: string }> | undefined;
  return {
    async check() {
      if (cached && now() - cached.at < cacheSeconds * 1000) return cached.result;
      inflight ??= client.healthCheck().then((r) => {
        const result = r.ok ? { ok: true } : { ok: false, problem: r.problem };
        cached = { at: now(), result };
        return result;
      }).finally(() => { inflight = undefined; });
      return inflight;
    },
  };
}
