// Recent sign-in activity, read from the audit log: the password step and every second-factor step, with
// the application, the method, the result and the client address. Failures are listed too: an attempt
// the user does not recognise is the reason to look.
import type { Db } from '../storage/db.ts';

export interface ActivityRow { at: Date; type: string; outcome: string; clientId: string | null; factor: string | null; ip: string | null }

export async function recentSignIns(db: Db, userId: string, limit: number): Promise<ActivityRow[]> {
  const r = await db.query<{ at: Date | string; type: string; outcome: string; client_id: string | null; factor: string | null; ip: string | null }>(
    `SELECT at, type, outcome, client_id, factor, ip FROM audit_events
     WHERE user_id = $1 AND (type = 'login.password' OR type LIKE 'mfa.%')
     ORDER BY id DESC LIMIT $2`, [userId, limit]);
  return r.rows.map((row) => ({ at: new Date(row.at), type: row.type, outcome: row.outcome, clientId: row.client_id, factor: row.factor, ip: row.ip }));
}
