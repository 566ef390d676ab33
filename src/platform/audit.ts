// Security events: one structured log line each, and a row in audit_events (kept log.auditRetentionDays).
import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { deferWrite } from '../storage/unit-of-work.ts';

export interface AuditEvent {
  type: string;                 // 'login.password', 'mfa.totp', 'mfa.duo', 'user.passwd', …
  outcome: 'success' | 'failure' | 'denied' | 'error' | 'bypass' | 'fail-open' | 'info';
  userId?: string | null; username?: string | null; clientId?: string | null; ip?: string | null;
  factor?: string | null; reason?: string | null; detail?: Record<string, unknown>;
}

/** `observe` sees every event as it is recorded: metrics are derived from the audit trail in one place. */
export function createAudit(db: Db, log: Logger, observe?: (e: AuditEvent) => void) {
  return {
    async record(e: AuditEvent): Promise<void> {
      log.info({ audit: e }, `audit ${e.type} ${e.outcome}`);
      observe?.(e);
      try {
        // Inside a request's unit of work the row joins the request's one commit (storage/unit-of-work.ts).
        await deferWrite(db, `INSERT INTO audit_events (type, outcome, user_id, username, client_id, ip, factor, reason, detail)
          VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
        [e.type, e.outcome, e.userId ?? null, e.username ?? null, e.clientId ?? null, e.ip ?? null, e.factor ?? null, e.reason ?? null,
          e.detail ? JSON.stringify(e.detail) : null], { distinctRows: true });
      } catch (err) {
        // The log line above already holds the event; a DB outage must not turn an answer into a 500.
        log.warn({ err, event: 'GW_ERR_AUDIT_WRITE' }, 'audit event not stored');
      }
    },
    async sweep(retentionDays: number): Promise<number> {
      return (await db.query(`DELETE FROM audit_events WHERE at < now() - make_interval(days => $1::int)`, [retentionDays])).rowCount;
    },
  };
}
export type Audit = ReturnType<typeof createAudit>;
