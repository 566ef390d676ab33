// Prometheus metrics (prom-client), one registry per app so tests and multiple instances stay apart.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent } from './audit.ts';

export function createMetrics(poolStats?: () => { total: number; idle: number; waiting: number }, hashQueue?: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' }); // gatehouse_process_*, gatehouse_nodejs_*
  const m = {
    registry,
    http: new Histogram({ name: 'gatehouse_http_request_duration_seconds', help: 'HTTP request latency by route and status', labelNames: ['route', 'method', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    logins: new Counter({ name: 'gatehouse_logins_total', help: 'Password steps by protocol and result', labelNames: ['protocol', 'result'], registers: [registry] }),
    mfa: new Counter({ name: 'gatehouse_mfa_outcomes_total', help: 'MFA outcomes by factor, result and reason (including fail-open and bypass)', labelNames: ['factor', 'result', 'reason'], registers: [registry] }),
    duoLatency: new Histogram({ name: 'gatehouse_duo_call_duration_seconds', help: 'Duo API call latency', labelNames: ['call', 'result'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [registry] }),
    duoHealthy: new Gauge({ name: 'gatehouse_duo_healthy', help: '1 when the last Duo health check passed', registers: [registry] }),
    issued: new Counter({ name: 'gatehouse_issued_total', help: 'Tokens and assertions issued by kind', labelNames: ['kind'], registers: [registry] }),
    throttle: new Counter({ name: 'gatehouse_throttle_events_total', help: 'Rate-limit and lockout events', labelNames: ['kind'], registers: [registry] }),
    account: new Counter({ name: 'gatehouse_account_changes_total', help: 'Self-service and admin account changes', labelNames: ['action', 'result'], registers: [registry] }),
  };
  if (poolStats) {
    new Gauge({
      name: 'gatehouse_db_pool_connections', help: 'Database pool connections by state', labelNames: ['state'], registers: [registry],
      collect() { const s = poolStats(); this.set({ state: 'total' }, s.total); this.set({ state: 'idle' }, s.idle); this.set({ state: 'waiting' }, s.waiting); },
    });
  }
  if (hashQueue) {
    new Gauge({
      name: 'gatehouse_password_checks_queued', help: 'Password hashes waiting for a hashing slot (beyond passwords.maxQueueWaitMs they are refused with 503)', registers: [registry],
      collect() { this.set(hashQueue()); },
    });
  }
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The protocol a login served, from its client id (SAML SPs are internal clients `saml:…`). */
const protocolOf = (clientId?: string | null) =>
  !clientId ? 'none' : clientId.startsWith('saml:') ? 'saml' : clientId === 'gatehouse-account' ? 'account' : 'oidc';

/**
 * Counters that follow security events, fed by the audit trail (platform/audit.ts) so that a logged
 * event and its metric cannot drift apart: password steps by protocol and result, and the rate-limit
 * and lockout events (a refused attempt, and the failure that locks an account).
 */
export function countAuditEvent(m: Metrics, e: AuditEvent) {
  if (e.type !== 'login.password') return;
  m.logins.inc({ protocol: protocolOf(e.clientId), result: e.outcome });
  if (e.outcome === 'denied' && e.reason) m.throttle.inc({ kind: e.reason });
  if (e.detail?.locked) m.throttle.inc({ kind: 'lockout' });
}
