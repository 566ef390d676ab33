// The worker thread that owns libxml2 (xmllint-wasm) for xsd.ts. It is given the compiled WebAssembly
// module and the schema texts once, and then validates batches of documents: each batch is one run of
// xmllint's main() on a fresh instance of the already-compiled module (`--schema` once, every document
// of the batch after it), so the wasm is never compiled again and the schemas are parsed once per batch,
// not once per message. xmllint-wasm's own validateXML() starts a new worker, reads and compiles the
// 760 KiB wasm on every call (8–40 calls a second); this file is what it would be if it stayed warm.
// https://github.com/noppa/xmllint-wasm/blob/master/src/index-node.js (validateXML, the cost avoided)
//
// Each run writes its documents under random names: xmllint reports "<name> validates" or "<name> fails
// to validate" per file, and a document's own text (which can hold a newline) cannot forge a line about
// a name it does not know.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

export interface SchemaFile { fileName: string; contents: string }
export type ToWorker =
  | { type: 'init'; module: WebAssembly.Module; schemas: SchemaFile[]; main: string; maxMemoryPages: number }
  | { type: 'run'; id: number; docs: string[] };
/** Per document: valid, or the first reason xmllint gave. */
export type DocResult = { valid: true } | { valid: false; reason: string };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-failed'; reason: string }
  | { type: 'done'; id: number; results: DocResult[] }
  | { type: 'failed'; id: number; reason: string };

/** The emscripten factory of xmllint-wasm (CommonJS); it runs main() once per instance. */
type XmllintModule = (o: {
  inputFiles: SchemaFile[]; arguments: string[]; wasmMemory: WebAssembly.Memory;
  print(s: string): void; printErr(s: string): void; onExit(code: number): void; onAbort(reason: unknown): void;
  instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void): WebAssembly.Exports;
}) => Promise<unknown>;

const INITIAL_PAGES = 256; // what the module declares (16 MiB); a smaller memory does not link

let init: Extract<ToWorker, { type: 'init' }> | undefined;
// Loaded lazily: the file also installs xmllint-wasm's own message listener, which ignores our messages
// (they lack its 'xmllint-wasm' tag).
let factory: XmllintModule | undefined;

/** One xmllint run over `docs`; resolves with the per-document verdicts or throws when the run itself failed. */
function run(docs: string[]): Promise<DocResult[]> {
  const { module, schemas, main, maxMemoryPages } = init!;
  factory ??= createRequire(import.meta.url)('xmllint-wasm/xmllint-node.js') as XmllintModule;
  const tag = randomBytes(16).toString('hex');
  const names = docs.map((_, i) => `d${tag}-${i}.xml`);
  let stderr = '';
  return new Promise<DocResult[]>((resolve, reject) => {
    const settle = (code: number | null, abort?: unknown) => {
      if (abort !== undefined) return reject(new Error(`xmllint aborted: ${String(abort).slice(0, 200)}`));
      const lines = stderr.split('\n');
      const results: DocResult[] = names.map((name) => {
        if (lines.includes(`${name} validates`)) return { valid: true };
        const own = lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).replace(/^\d+:\s*/, '').trim());
        if (lines.includes(`${name} fails to validate`) || own.length > 0) return { valid: false, reason: (own[0] ?? 'fails to validate').slice(0, 300) };
        return { valid: false, reason: '' }; // no verdict at all: the run failed (checked below)
      });
      if (results.some((r) => !r.valid && r.reason === '')) return reject(new Error(`xmllint gave no verdict (exit ${code}): ${stderr.slice(0, 200)}`));
      resolve(results);
    };
    void factory!({
      inputFiles: [...schemas, ...docs.map((contents, i) => ({ fileName: names[i]!, contents }))],
      arguments: ['--nonet', '--noout', '--schema', main, ...names],
      // A fresh memory per run: the previous run's heap is never reused.
      wasmMemory: new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maxMemoryPages), maximum: maxMemoryPages }),
      print: () => {},
      printErr: (s) => { if (stderr.length < 1 << 20) stderr += `${s}\n`; },
      onExit: (code) => settle(code),
      onAbort: (reason) => settle(null, reason ?? 'abort'),
      instantiateWasm(imports, done) {
        const instance = new WebAssembly.Instance(module, imports);
        done(instance, module);
        return instance.exports;
      },
    }).catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
  });
}

// A minimal valid LogoutResponse: the self-test that proves the schemas compile and warms the JIT.
const SELF_TEST = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_t" Version="2.0" IssueInstant="2000-01-01T00:00:00Z">'
  + '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
port.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    init = m;
    run([SELF_TEST, '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>']).then((r) => {
      if (!r[0]!.valid || r[1]!.valid) throw new Error(`schema self-test gave ${JSON.stringify(r)}`);
      post({ type: 'ready' });
    }).catch((err: Error) => post({ type: 'init-failed', reason: err.message }));
    return;
  }
  run(m.docs).then((results) => post({ type: 'done', id: m.id, results }), (err: Error) => post({ type: 'failed', id: m.id, reason: err.message }));
});
