// The worker thread that owns libxml2 (xmllint-wasm) for xsd.ts, kept warm: it is given the compiled
// WebAssembly module and the schema texts once, and then runs xmllint's main() as a long-lived
// validator. One run is `xmllint --schema <protocol.xsd> /s0 /s1 … /s{N-1}`, where each /sI is an
// emscripten device whose read callback blocks (Atomics.wait) until the owner hands it the next message
// over a MessagePort. xmllint parses the schemas once, at the start of the run, and then validates up to N
// messages against the compiled schema, one per device, in order; after N it exits and the next run
// starts at once, so the schema parse happens while nobody waits. xmllint-wasm's own validateXML()
// starts a new worker, compiles the 760 KiB wasm and parses the schemas for every message (8–40 a second).
// https://github.com/noppa/xmllint-wasm/blob/master/src/index-node.js (validateXML, the cost avoided)
//
// Verdicts: xmllint writes "<file> validates" or "<file> fails to validate" per file, and errors as
// "<file>:<line>: …". Each run's device names carry a random tag, so a message's own text (which can hold
// a newline) cannot forge a line about another. A message with no verdict line (libxml2 could not parse
// it) is invalid, with its first error as the reason.
// Plain JavaScript (not TypeScript) on purpose: a worker that loads a .ts file makes Node load its
// TypeScript stripper inside the worker too (about 9 MiB of resident memory for the life of the worker).
// The message types are declared in xsd.ts (SchemaFile, InitMessage, DocMessage, FromWorker).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';

const INITIAL_PAGES = 256; // what the module declares (16 MiB)
const encoder = new TextEncoder();

/** @param {import('./xsd.ts').InitMessage} init */
function serve(init) {
  const { module, schemas, main, maxMemoryPages, docsPerRun, port } = init;
  const signal = new Int32Array(init.signal);
  // Loaded here, not at the top: the file also installs xmllint-wasm's own message listener, which
  // ignores ours (they lack its 'xmllint-wasm' tag). The emscripten factory (CommonJS): one instance,
  // one main() run.
  const factory = createRequire(import.meta.url)('xmllint-wasm/xmllint-node.js');
  /** @param {import('./xsd.ts').FromWorker} m */
  const post = (m) => parentPort.postMessage(m);
  let runs = 0;

  /** Blocks until the owner posts the next message. @returns {import('./xsd.ts').DocMessage} */
  function nextDoc() {
    for (;;) {
      const seen = Atomics.load(signal, 0);
      const m = receiveMessageOnPort(port);
      if (m) return m.message;
      Atomics.wait(signal, 0, seen, 1000);
    }
  }

  function run() {
    const n = ++runs;
    const tag = randomBytes(8).toString('hex');
    const names = Array.from({ length: docsPerRun }, (_, i) => `/s${tag}-${i}`);
    // The message the run is on: its slot, bytes, and what xmllint said about it so far.
    let slot = -1, id = null, bytes = new Uint8Array(0), pos = 0, errors = [], answered = true, readAny = false;
    const answer = (valid) => {
      if (answered || id === null) return;
      answered = true;
      post({ type: 'verdict', id, valid, reason: valid ? '' : (errors[0] ?? 'not a readable XML document').slice(0, 300) });
    };
    // Exactly once per run (an abort can be reported both by onAbort and by the factory's promise).
    let ended = false;
    const end = (failure) => {
      if (ended) return;
      ended = true;
      if (failure !== null && !answered && id !== null) { answered = true; post({ type: 'failed', id, reason: failure }); }
      // A run that fails before reading any message would fail again: the owner replaces the worker.
      if (failure !== null && !readAny) post({ type: 'dead', reason: failure });
      else setImmediate(run);
    };
    const input = (i) => () => {
      if (slot !== i) {
        answer(false); // the previous message got no verdict line: libxml2 could not read it
        slot = i;
        const d = nextDoc();
        readAny = true;
        id = d.id; bytes = encoder.encode(d.xml); pos = 0; errors = []; answered = false;
      }
      return pos < bytes.length ? bytes[pos++] : null;
    };
    const arg = {
      inputFiles: schemas,
      arguments: ['--nonet', '--noout', '--schema', main, ...names],
      // A fresh memory per run: one run's heap is never another's.
      wasmMemory: new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maxMemoryPages), maximum: maxMemoryPages }),
      // FS_createDevice is set by the factory on this same object before preInit runs.
      preInit: () => { names.forEach((name, i) => arg.FS_createDevice('/', name.slice(1), input(i), null)); },
      print: () => {},
      printErr: (line) => {
        if (slot < 0) return; // schema-parse chatter before the first message
        const name = names[slot];
        if (line === `${name} validates`) answer(true);
        else if (line === `${name} fails to validate`) answer(false);
        else if (line.startsWith(`${name}:`) && errors.length < 4) errors.push(line.slice(name.length + 1).replace(/^\d+:\s*/, '').trim());
      },
      onExit: (code) => { answer(false); end(readAny ? null : `xmllint exited (${code}) before reading a message`); },
      onAbort: (reason) => end(`xmllint aborted: ${String(reason).slice(0, 200)}`),
      instantiateWasm(imports, done) {
        const instance = new WebAssembly.Instance(module, imports);
        done(instance, module);
        return instance.exports;
      },
    };
    post({ type: 'run', n });
    factory(arg).catch((err) => end(err instanceof Error ? err.message : String(err)));
  }
  run();
}

parentPort.once('message', (m) => serve(m));
