// GET /account: the overview. Notices after an action come as a fixed key (?done=…), never as text from
// the request.
import type { FastifyInstance } from 'fastify';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX } from '../client.ts';
import { factorOverview } from '../factors.ts';
import { recentSignIns, type ActivityRow } from '../activity.ts';
import { homePage, type ActivityItem } from '../views/home.ts';
import type { Kit, PortalDeps } from '../kit.ts';

export const NOTICES: Record<string, string> = {
  password: 'Your password was changed. You were signed out everywhere else.',
  totp_removed: 'The authenticator app was removed, with its recovery codes.',
};

const RESULT: Record<string, string> = {
  success: 'succeeded', failure: 'failed', denied: 'refused', error: 'failed (error)', bypass: 'allowed by Duo bypass',
  'fail-open': 'allowed without a second factor (Duo unreachable)', info: 'noted',
};

export function registerHome(app: FastifyInstance, d: PortalDeps, kit: Kit) {
  const { services: s } = d;
  const clientNames = new Map<string, string>([
    [ACCOUNT_CLIENT_ID, 'Your account'],
    ...s.config.oidc.clients.map((c): [string, string] => [c.clientId, c.name ?? c.clientId]),
  ]);
  const method = (r: ActivityRow) => {
    if (r.type === 'login.password') return 'password';
    if (r.type === 'mfa.totp.enroll') return 'authenticator app set-up';
    const f = r.factor ? s.mfa.byId(r.factor) : undefined;
    return f ? f.label.toLowerCase() : r.factor ?? 'second factor';
  };
  const toItem = (r: ActivityRow): ActivityItem => ({
    at: r.at, application: r.clientId ? clientNames.get(r.clientId) ?? r.clientId : 'unknown application',
    method: method(r), result: RESULT[r.outcome] ?? r.outcome, ip: r.ip ?? 'unknown address',
  });

  app.get(ACCOUNT_PREFIX, async (req, reply) => {
    const c = await kit.signedIn(req, reply, ACCOUNT_PREFIX);
    if (!c) return reply;
    const done = (req.query as Record<string, unknown>).done;
    return kit.page(reply, 200, homePage(s.config.ui, {
      username: c.user.username, csrf: kit.csrf(c, 'sign-out'),
      factors: await factorOverview(s.config, s.mfa, c.user),
      activity: (await recentSignIns(s.db, c.user.id, s.config.account.recentSignIns)).map(toItem),
      notice: typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined,
    }));
  });
}
