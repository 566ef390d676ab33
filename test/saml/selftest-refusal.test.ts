// The gateway does not start with SAML SPs when its XML Schema validator cannot run: the start-up
// self-test (xsd.ts selfTestInChild, in a child process) fails, and the start fails with a message naming
// the validator. The child's own failures are tested in schema.test.ts; here the self-test is replaced
// (app.ts BuildOptions.samlSelfTest) to test the wiring in idp.ts.
import t from 'tap';
import { VALIDATOR_EVENT } from '../../src/protocols/saml/xsd.ts';
import { spConfig, startSamlGateway } from './helpers.ts';
import { startGateway } from '../helpers/gateway.ts';

t.test('a failing validator self-test stops the start, naming the validator', async (t) => {
  let calls = 0;
  const samlSelfTest = async () => { calls++; throw new Error('the child ran out of memory'); };
  await t.rejects(startSamlGateway(t, [await spConfig()], { samlSelfTest }),
    new RegExp(`^${VALIDATOR_EVENT}: the SAML XML Schema validator could not start \\(the child ran out of memory\\)$`));
  t.equal(calls, 1, 'the self-test ran once, at the start');
  const ok = await startSamlGateway(t, [await spConfig()], { samlSelfTest: async () => { calls++; } });
  t.equal((await fetch(`${ok.url}/saml/metadata`)).status, 200, 'a passing self-test lets the same configuration start');
});

t.test('with no SAML SP the self-test does not run (the SAML stack is not loaded)', async (t) => {
  let calls = 0;
  const gw = await startGateway(t, { samlSelfTest: async () => { calls++; throw new Error('not expected'); } });
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'started');
  t.equal(calls, 0, 'no self-test');
});
