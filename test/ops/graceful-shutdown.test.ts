// SIGTERM mid-load: in-flight requests finish, new connections are refused, the process exits 0.
import t from 'tap';
import { startProcess } from '../helpers/process.ts';

t.test('SIGTERM under load loses no accepted request', async (t) => {
  const p = await startProcess(t);
  let ok = 0; let refused = 0; const failed: string[] = [];
  let stop = false;
  // Each request on a fresh connection (no keep-alive), so "refused" is the only legitimate failure.
  const worker = async () => {
    while (!stop) {
      try {
        const r = await fetch(`${p.url}/.well-known/openid-configuration`, { headers: { connection: 'close' } });
        await r.text();
        if (r.status === 200) ok++; else failed.push(`status ${r.status}`);
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code;
        if (code === 'ECONNREFUSED') { refused++; stop = true; } else failed.push(String(code ?? err));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((r) => setTimeout(r, 1500));
  p.child.kill('SIGTERM');
  const exit = await p.exited;
  stop = true;
  await Promise.all(workers);
  t.equal(exit, 0, 'exit 0');
  t.ok(ok > 20, `requests served before the signal (${ok})`);
  t.same(failed, [], 'no failed request other than refused new connections');
  t.ok(refused > 0, 'new connections are refused after the signal');
});
