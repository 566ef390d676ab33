// Property-based fuzzing of what the login pages accept: whatever arrives, the answer is a clear 4xx/3xx
// (never a 500, never a stack trace), and nothing signs anyone in.
import t from 'tap';
import fc from 'fast-check';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { addUser, discover, startAuthorize } from '../helpers/oidc.ts';
import { readForm } from '../helpers/browser.ts';

const noStack = (body: string) => !/\bat .+\.(ts|js):\d+/.test(body) && !/Error: /.test(body);
const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constant(''));

t.test('login and MFA endpoints under random input', async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [{ ...confidentialClient, mfa: 'required' }] }, security: { ipLimitPerMinute: 100000, lockoutThreshold: 100 } } });
  await addUser(gw);
  const rp = await discover(gw);
  const s = await startAuthorize(gw, rp);
  const form = readForm(await s.res.text(), '/login');
  const loginUrl = new URL(form.action, gw.url);
  const uid = loginUrl.pathname.split('/')[2]!;
  const statuses = new Map<number, number>();

  await fc.assert(fc.asyncProperty(
    fc.record({ username: anyText, password: anyText, csrf: fc.oneof(fc.constant(form.fields.csrf!), anyText), extra: anyText }),
    fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x'),
    async (fields, type) => {
      const body = type.startsWith('application/x-www') ? new URLSearchParams(fields).toString()
        : type === 'application/json' ? JSON.stringify(fields) : `${fields.username}\r\n${fields.password}`;
      const res = await s.browser.request(loginUrl, { method: 'POST', body, headers: { 'content-type': type } });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return res.status < 500 && noStack(text) && res.status !== 303;
    },
  ), { numRuns: 60 });

  await fc.assert(fc.asyncProperty(
    fc.dictionary(fc.constantFrom('state', 'duo_code', 'code', 'error', 'error_description', 'x'), anyText),
    fc.constantFrom('mfa/duo/callback', 'mfa/totp', 'mfa/recovery', 'mfa/begin', 'mfa/enroll', 'mfa/nope', 'confirm', 'abort'),
    fc.oneof(fc.constant(uid), anyText.map((x) => encodeURIComponent(x).slice(0, 80) || 'x')),
    async (query, path, u) => {
      const res = await s.browser.get(`${gw.url}/interaction/${u}/${path}?${new URLSearchParams(query)}`);
      const text = await res.text();
      return res.status < 500 && noStack(text);
    },
  ), { numRuns: 80 });

  const rows = await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE outcome = 'success'`);
  t.equal(rows.rows[0]!.n, 0, 'nothing succeeded');
  t.comment(`login statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
