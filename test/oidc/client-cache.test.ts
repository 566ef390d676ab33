// Clients come from config. oidc-provider keeps every static client it built in a plain map (no LRU: its
// 100-entry LRU is only for clients read through the adapter, which Gatehouse never stores), and the
// gatehouse:* policy fields are read once per client instance. So with many more clients than 100 nothing is
// rebuilt per request: each client is built once on first use and reused.
import t from 'tap';
import { startGateway, confidentialClient } from '../helpers/gateway.ts';
import { clientPolicy } from '../../src/protocols/oidc/clients.ts';

const N = 250;
const clients = Array.from({ length: N }, (_, i) => ({
  clientId: `svc-${i}`, clientSecret: `svc-secret-${i}-0123456789abcdefghij`, grantTypes: ['client_credentials'], redirectUris: [],
  mfa: i % 2 ? 'optional' : 'required', firstParty: i % 3 === 0,
}));

t.test(`${N} configured clients: each built once and kept, policy read once per instance`, async (t) => {
  const gw = await startGateway(t, { overrides: { oidc: { clients: [confidentialClient, ...clients] } } });
  const { Client } = gw.app.provider.current();
  const first = await Promise.all(clients.map((c) => Client.find(c.clientId)));
  t.ok(first.every(Boolean), 'every configured client is found');
  const again = await Promise.all(clients.map((c) => Client.find(c.clientId)));
  t.ok(again.every((c, i) => c === first[i]), `the same instance on the second lookup for all ${N} (more than oidc-provider's LRU of 100)`);
  const p0 = first.map((c) => clientPolicy(c!));
  t.ok(first.every((c, i) => clientPolicy(c!) === p0[i]), 'clientPolicy is computed once per client instance');
  t.same(p0.slice(0, 3).map((p) => [p.mfa, p.firstParty, p.accessTokenFormat]), [['required', true, 'jwt'], ['optional', false, 'jwt'], ['required', false, 'jwt']],
    'and carries the configured gatehouse:* fields');
  t.ok(Object.isFrozen(p0[0]), 'shared, so frozen');
});
