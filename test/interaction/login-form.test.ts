// The login page: the form contract (field names, autocomplete), CSRF, and answers that never tell an
// unknown username from a wrong password or a disabled account.
import t, { type Test } from 'tap';
import { startGateway } from '../helpers/gateway.ts';
import { readForm } from '../helpers/browser.ts';
import { addUser, discover, startAuthorize, submitLogin } from '../helpers/oidc.ts';

t.test('login form', async (t) => {
  // Real (if small) argon2 cost, so that skipping the hash for unknown users would show in the timing.
  const gw = await startGateway(t, { overrides: {
    passwords: { memoryKiB: 16384, iterations: 2, parallelism: 1, minLength: 8 },
    security: { ipLimitPerMinute: 1000, lockoutThreshold: 100 },
  } });
  const alice = await addUser(gw);
  const carol = await addUser(gw, 'carol', 'carol password 123');
  await gw.services.users.setDisabled(carol.id, true);
  const rp = await discover(gw);

  /** A fresh login page (its own browser and interaction). */
  const loginPage = async () => {
    const s = await startAuthorize(gw, rp, { scope: 'openid' });
    if (s.res.status !== 200) throw new Error(`expected the login page, got ${s.res.status}`);
    return { ...s, page: await s.res.text() };
  };
  const alertOf = (html: string) => /role="alert" id="error">([^<]*)</.exec(html)?.[1];
  /** Submits credentials and returns status, alert text and the time the answer took. */
  const attempt = async (username: string, password: string) => {
    const p = await loginPage();
    const started = performance.now();
    const res = await submitLogin(p.browser, gw, p.page, username, password);
    const ms = performance.now() - started;
    const html = res.status === 303 ? '' : await res.text();
    return { status: res.status, alert: alertOf(html), html, ms, location: res.headers.get('location') };
  };

  t.test('the form contract', async (t) => {
    const { page, interaction } = await loginPage();
    t.match(page, /<input type="text" id="username" name="username" autocomplete="username"/);
    t.match(page, /<input type="password" id="password" name="password" autocomplete="current-password"/);
    const form = readForm(page, '/login');
    t.equal(form.action, `${interaction!.pathname}/login`, 'posts to this interaction');
    t.match(page, /<form method="post" action="[^"]*\/login"/, 'POST, never GET');
    t.ok(form.fields.csrf && form.fields.csrf.length >= 20, 'a CSRF token');
    t.equal(form.fields.username, '', 'empty username without login_hint');
    t.match(page, /<label for="username">/);
    t.match(page, /<label for="password">/);
    t.match(page, 'id="cancel"');
  });

  t.test('a good login continues the flow', async (t) => {
    const a = await attempt('alice', 'correct horse battery');
    t.equal(a.status, 303);
    t.match(a.location, /^http:\/\/127\.0\.0\.1:9999\/cb\?code=/, 'to the client with a code (the provider resumed in-process)');
  });

  t.test('the username is case-insensitive and trimmed', async (t) => {
    t.equal((await attempt('  ALICE ', 'correct horse battery')).status, 303);
  });

  t.test('CSRF: missing, wrong or from another interaction → 403 page, no login', async (t) => {
    const other = await loginPage();
    const otherToken = readForm(other.page, '/login').fields.csrf!;
    for (const [what, csrf] of [['missing', undefined], ['wrong', 'A'.repeat(43)], ['another interaction\'s', otherToken]] as const) {
      const p = await loginPage();
      const form = readForm(p.page, '/login');
      const fields: Record<string, string> = { ...form.fields, username: 'alice', password: 'correct horse battery' };
      if (csrf === undefined) delete fields.csrf; else fields.csrf = csrf;
      const res = await p.browser.post(new URL(form.action, gw.url), fields);
      t.equal(res.status, 403, `${what} token: 403`);
      t.equal(res.headers.get('location'), null, 'no redirect');
      t.match(await res.text(), 'id="error-code">GW_CSRF<', `${what} token: stable code`);
      // The interaction is still at the login prompt: nothing was signed in.
      const again = await p.browser.get(p.at);
      t.equal(again.status, 200);
      t.match(await again.text(), 'name="password"', `${what} token: still asking for the password`);
    }
  });

  t.test('unknown user, wrong password and disabled account look the same', async (t) => {
    const unknown = await attempt('nobody-here', 'whatever password');
    const wrong = await attempt('alice', 'not the password');
    const disabled = await attempt('carol', 'carol password 123');
    for (const [what, a] of [['unknown user', unknown], ['wrong password', wrong], ['disabled account (right password)', disabled]] as const) {
      t.equal(a.status, 401, `${what}: 401`);
      t.equal(a.alert, 'The username or password is incorrect.', `${what}: the same message`);
      t.notMatch(a.html, /not the password|carol password 123|whatever password/, `${what}: the password is never echoed`);
    }
    t.equal(readForm(unknown.html, '/login').fields.username, 'nobody-here', 'the username is kept for a retry');
    t.equal(readForm(unknown.html, '/login').fields.password, '', 'the password is not');
  });

  t.test('unknown users cost a password hash too (timing)', async (t) => {
    // The floor: the fastest of several real verifications on this machine right now.
    const hash = await gw.services.passwords.hash('some password');
    let floor = Infinity;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      await gw.services.passwords.verify(hash, 'other password');
      floor = Math.min(floor, performance.now() - s);
    }
    await attempt('warm-up-user', 'x'.repeat(12)); // the dummy hash is computed once, lazily
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 5; i++) {
      unknown.push((await attempt(`ghost-${i}`, 'wrong password 1')).ms);
      wrong.push((await attempt('alice', 'wrong password 1')).ms);
    }
    t.comment(`verify floor ${floor.toFixed(1)} ms; median unknown ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms`);
    t.ok(median(unknown) >= floor * 0.7, 'an unknown username takes at least a password verification');
    t.ok(median(wrong) >= floor * 0.7, 'a wrong password takes at least a password verification');
  });

  t.test('malformed submissions: 400 and the form again', async (t) => {
    for (const [username, password] of [['', 'pw'], ['alice', ''], ['a'.repeat(200), 'pw']]) {
      const a = await attempt(username!, password!);
      t.equal(a.status, 400, `username ${username!.length} chars, password ${password!.length} chars`);
      t.equal(a.alert, 'Enter your username and password.');
      t.match(a.html, 'name="password"');
    }
  });

  t.test('cancel → access_denied at the RP', async (t) => {
    const p = await loginPage();
    const cancel = readForm(p.page, '/abort');
    const res = await p.browser.post(new URL(cancel.action, gw.url), cancel.fields);
    const { url } = await p.browser.follow(res, gw.url, (u) => u.href.startsWith(p.redirectUri));
    t.equal(url.searchParams.get('error'), 'access_denied');
    t.equal(url.searchParams.get('state'), p.state);
  });

  t.test('a disabled user\'s SSO session is not honoured', async (t: Test) => {
    const dave = await addUser(gw, 'dave', 'dave password 123');
    const p = await loginPage();
    const posted = await submitLogin(p.browser, gw, p.page, 'dave', 'dave password 123');
    await p.browser.follow(posted, gw.url, (u) => u.href.startsWith(p.redirectUri));
    await gw.services.users.setDisabled(dave.id, true);
    const none = await startAuthorize(gw, rp, { scope: 'openid', browser: p.browser, extra: { prompt: 'none' } });
    t.equal(none.at.searchParams.get('error'), 'login_required', 'prompt=none: login_required, not a 500');
    const again = await startAuthorize(gw, rp, { scope: 'openid', browser: p.browser });
    t.equal(again.res.status, 200, 'the login page instead of single sign-on');
    const page = await again.res.text();
    t.match(page, 'name="password"');
    const retry = await submitLogin(p.browser, gw, page, 'dave', 'dave password 123');
    t.equal(retry.status, 401, 'and the disabled account cannot sign in again');
    t.notOk(gw.logs.some((l) => l.includes('GW_ERR_OIDC')), 'no server error logged');
  });
});
