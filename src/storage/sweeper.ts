// Periodic housekeeping: expired oidc rows, stale throttle counters, old audit events, unpublished keys;
// and noticing key rotations made by another instance.
import type { Services } from '../services.ts';
import { sweepOidcModels } from './oidc-adapter.ts';

const SLOW_SWEEP_MS = 250;

export function startSweeper(s: Services, onTick?: () => Promise<void>): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const started = performance.now();
      const rows = await sweepOidcModels(s.db);
      const ms = Math.round(performance.now() - started);
      // A slow sweep is worth an operator's eye (a large backlog, a bloated table with autovacuum off).
      if (ms >= SLOW_SWEEP_MS) s.log.info({ event: 'sweep', rows, ms }, 'expired oidc rows deleted (slow sweep)');
      else if (rows) s.log.debug({ event: 'sweep', rows, ms }, 'expired oidc rows deleted');
      await s.throttle.sweep();
      await s.audit.sweep(s.config.log.auditRetentionDays);
      await s.keys.sweep();
      await s.mfa.challenges.sweep();
      await s.mfa.bypass.sweep();
      await onTick?.();
    } catch (err) {
      s.log.warn({ err, event: 'GW_ERR_SWEEP' }, 'housekeeping failed; will retry');
    } finally { running = false; }
  };
  const timer = setInterval(tick, s.config.database.sweepIntervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
