// Wraps a DuoClient to time every call and track health in metrics.
import type { Metrics } from '../../platform/metrics.ts';
import type { DuoClient } from './duo-client.ts';

export function instrumentDuoClient(c: DuoClient, m: Metrics): DuoClient {
  const timed = async <T>(call: string, fn: () => Promise<T>): Promise<T> => {
    const end = m.duoLatency.startTimer({ call });
    try { const r = await fn(); end({ result: 'ok' }); return r; } catch (err) { end({ result: 'error' }); throw err; }
  };
  return {
    async healthCheck() {
      const r = await timed('health_check', () => c.healthCheck());
      m.duoHealthy.set(r.ok ? 1 : 0);
      return r;
    },
    generateState: () => c.generateState(),
    createAuthUrl: (u, s, r) => c.createAuthUrl(u, s, r),
    exchange: (code, u, r) => timed('token', () => c.exchange(code, u, r)),
  };
}
