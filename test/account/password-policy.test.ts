// The new-password rules and the common-password list that ships with the project (no gateway needed).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkNewPassword, MAX_PASSWORD_LENGTH } from '../../src/account/password-policy.ts';
import { commonPasswordCount, isCommonPassword } from '../../src/account/common-passwords.ts';

const ctx = { minLength: 12, username: 'alice', email: 'alice.liddell@example.com', current: 'old password of alice' };

t.test('the list: 10,000 entries of 8+ characters with an attribution header, matched case-insensitively', async (t) => {
  const text = readFileSync(new URL('../../src/account/common-passwords.txt', import.meta.url), 'utf8');
  t.match(text.split('\n')[1], /@zxcvbn-ts\/language-common .*MIT License/, 'attribution header');
  t.equal(commonPasswordCount(), 10000);
  t.ok(text.split('\n').filter((l) => l && !l.startsWith('#')).every((l) => l.length >= 8), 'no entry shorter than the lowest minLength');
  for (const p of ['password', 'qwertyuiop', 'Sunshine', 'ILOVEYOU', 'trustno1']) t.ok(isCommonPassword(p), `${p} is common`);
  t.notOk(isCommonPassword('violet kettle drums at noon'), 'a passphrase is not');
});

t.test('rules, first problem wins', async (t) => {
  const check = (p: string, confirm = p) => checkNewPassword(p, confirm, ctx);
  t.equal(check('violet kettle drums', 'violet kettle drum'), 'mismatch');
  t.equal(check('short words'), 'too_short', '11 characters < 12');
  t.equal(check('🔑🚪🏠🌙⭐🍀🔑🚪🏠🌙⭐'), 'too_short', 'length counts characters (11), not UTF-16 units (22)');
  t.equal(check('🔑🚪🏠🌙⭐🍀🔑🚪🏠🌙⭐🍀'), undefined, '12 characters are enough');
  t.equal(check('x'.repeat(MAX_PASSWORD_LENGTH - 3) + 'abcd'), 'too_long', 'never longer than the login form accepts');
  t.equal(check('old password of alice'), 'unchanged');
  t.equal(check('my name is Alice, hi'), 'personal', 'contains the username');
  t.equal(check('liddell-ALICE.LIDDELL'), 'personal', 'contains the email local part');
  t.equal(check('abababababab'), 'repetitive', 'fewer than 4 different characters');
  t.equal(check('LeaveMeAlone'), 'common', 'on the list, whatever the case');
  t.equal(check('violet kettle drums'), undefined, 'a passphrase is fine');
});
