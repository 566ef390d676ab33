// The user an assertion describes is read along with the code it redeems (src/users/users.ts ACCOUNT_JSON):
// for a browser that is already signed in, the next assertion must still carry the account as it is now,
// and a disabled account must get no assertion at all.
import t from 'tap';
import { Browser } from '../helpers/browser.ts';
import { nodeSamlSp, redirectLogin, spConfig, startSamlGateway, withUser } from './helpers.ts';

t.test('a signed-in browser\'s next assertion carries the account as it is now; a disabled account gets none', async (t) => {
  const gw = await startSamlGateway(t, [await spConfig()]);
  const user = await withUser(gw);
  const sp = await nodeSamlSp(gw);
  const browser = new Browser();
  const first = await redirectLogin(gw, sp, browser);
  t.ok(first.sawLogin && first.fields.SAMLResponse, 'signed in');

  await gw.services.db.query(`UPDATE users SET email = 'alice@new.example', name = 'Alice N', groups = '{ops}' WHERE id = $1`, [user.id]);
  const again = await redirectLogin(gw, sp, browser, 'rs-2', { password: false });
  const profile = (await sp.validatePostResponseAsync({ SAMLResponse: again.fields.SAMLResponse! })).profile!;
  t.equal(profile.nameID, 'alice@new.example', 'the NameID from the current email');
  t.equal(profile.email, 'alice@new.example');
  t.equal(profile['urn:oid:2.5.4.3'], 'Alice N');
  t.equal(profile.groups, 'ops');

  await gw.services.users.setDisabled(user.id, true);
  const denied = await redirectLogin(gw, sp, browser, 'rs-3', { password: false }).then(
    async (p) => (p.fields.SAMLResponse ? sp.validatePostResponseAsync({ SAMLResponse: p.fields.SAMLResponse }).then(() => 'assertion', () => 'refused') : 'no response'),
    () => 'login form');
  t.not(denied, 'assertion', `a disabled account gets no assertion (${denied})`);
});
