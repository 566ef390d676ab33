// The XML Schema validator's start-up self-test, run in a short-lived child process by selfTestInChild
// (xsd.ts): the gateway must not start with SAML SPs and a validator that cannot run, but a worker started
// and stopped in the gateway's own process leaves ≈ 19 MiB of RSS behind (docs/saml.md "Memory"). Here the
// wasm is compiled, a worker started and checked against a known-good and a known-bad message, and the
// process ends: exit code 0, or 1 with the reason on stderr. argv[2]: the validator's options as JSON.
import { createXsdValidator, type XsdOptions } from './xsd.ts';

const validator = createXsdValidator(JSON.parse(process.argv[2] ?? '{}') as XsdOptions);
try {
  await validator.warm();
  await validator.close();
  process.exit(0);
} catch (err) {
  process.stderr.write((err as Error).message);
  process.exit(1);
}
