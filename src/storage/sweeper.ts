// Periodic housekeeping: expired oidc rows, stale throttle counters, old audit events, unpublished keys;
// and noticing key rotations made by another instance.
import type { Services } from '../services.ts';
import { sweepOidcModels } from './oidc-adapter.ts';

export function startSweeper(s: Services, onTick?: () => Promise<void>): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await sweepOidcModels(s.db);
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
