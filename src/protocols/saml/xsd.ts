// XML Schema validation of inbound SAML messages against the SAML 2.0 protocol schema (and, through its
// imports, the assertion, XML Signature and XML Encryption schemas; schemas/README.md says where they
// come from). The engine is libxml2 compiled to WebAssembly (xmllint-wasm), kept warm:
//
//  - the wasm is read and compiled once per process, here, and handed to the worker (a compiled
//    WebAssembly.Module can be posted to a worker thread), so a restart costs a thread, not a compile;
//  - one long-lived worker thread owns libxml2 (xsd-worker.mjs) and streams messages through a running
//    xmllint whose schema is already parsed: per message, only the message is parsed and validated;
//  - messages wait in a bounded queue (past maxQueue the answer is an immediate 503); up to maxInFlight are
//    handed to the worker ahead, so it never waits for this thread's event loop;
//  - every message has a deadline; past it the caller gets GW_SAML_SCHEMA_UNAVAILABLE (503). When the
//    message the worker is on passes its deadline, the worker is taken as hung: it is terminated (the only
//    way to stop a wasm loop), a fresh one is started, and the messages behind it are handed to that one.
//
// A document that validated is remembered (a small LRU of the exact text): samlify asks again for the same
// message through its schema-validator hook (xml-guard.ts), and that second answer costs a lookup.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SamlError } from './errors.ts';

// The messages between this thread and the worker (xsd-worker.mjs).
export interface SchemaFile { fileName: string; contents: string }
export interface InitMessage {
  type: 'init'; module: WebAssembly.Module; schemas: SchemaFile[]; main: string; maxMemoryPages: number; docsPerRun: number;
  /** Messages to validate arrive here ({ id, xml }), read synchronously by the device callbacks. */
  port: MessagePort;
  /** Int32 counter the owner increments (and notifies) after each message posted to `port`. */
  signal: SharedArrayBuffer;
}
export interface DocMessage { id: number; xml: string }
export type FromWorker =
  | { type: 'verdict'; id: number; valid: boolean; reason: string }
  /** The run stopped (libxml2 aborted) while on message `id`; the next run has started. */
  | { type: 'failed'; id: number | null; reason: string }
  /** The worker can no longer run xmllint (a run failed before reading anything). */
  | { type: 'dead'; reason: string }
  | { type: 'run'; n: number };

const SCHEMA_FILES = ['saml-schema-protocol-2.0.xsd', 'saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd'];
export const DEFAULT_SCHEMA_TIMEOUT_MS = 2000;
/** The code under the pino field `event` for the validator's own trouble (start failed, worker replaced, run failed). */
export const VALIDATOR_EVENT = 'GW_ERR_SAML_SCHEMA_VALIDATOR';

export interface XsdOptions {
  /** Messages allowed to wait for a verdict; one more is refused at once (503). */
  maxQueue?: number;
  /** Messages handed to the worker ahead of their turn. */
  maxInFlight?: number;
  /** Messages one xmllint run validates before the next run (a fresh wasm instance) takes over. */
  docsPerRun?: number;
  /** The wasm memory cap of one run, in 64 KiB pages; the module declares 256, and less fails the start. */
  maxMemoryPages?: number;
  /** Worker start and schema self-test. */
  startTimeoutMs?: number;
}

export interface XsdStats { starts: number; runs: number; documents: number; restarts: number; queued: number; cached: number }

export interface XsdValidator {
  /**
   * Resolves when `xml` is valid against the SAML protocol schema. Rejects with SamlError GW_SAML_SCHEMA
   * (invalid, with libxml2's first reason as detail) or GW_SAML_SCHEMA_UNAVAILABLE (deadline passed, queue
   * full, validator failed).
   */
  validate(xml: string, timeoutMs?: number): Promise<void>;
  /** Whether this exact text passed validate() recently (the LRU of valid documents); costs a lookup. */
  passed(xml: string): boolean;
  /** Starts the worker (compile, schemas, self-test) now instead of on the first message, and keeps it. */
  warm(): Promise<void>;
  /** Receives the validator's own events (start failure, restart); returns the unsubscribe function. */
  subscribe(fn: (event: string, detail: Record<string, unknown>) => void): () => void;
  stats(): XsdStats;
  close(): Promise<void>;
}

interface Compiled { module: WebAssembly.Module; schemas: SchemaFile[] }
let compiled: Promise<Compiled> | undefined;

/** Reads and compiles the wasm and reads the schemas, once per process (again only after a failure). */
function compileOnce(): Promise<Compiled> {
  if (!compiled) {
    compiled = (async () => {
      const wasm = readFileSync(createRequire(import.meta.url).resolve('xmllint-wasm/xmllint.wasm'));
      const schemas = SCHEMA_FILES.map((fileName) => ({ fileName, contents: readFileSync(new URL(`./schemas/${fileName}`, import.meta.url), 'utf8') }));
      return { module: await WebAssembly.compile(wasm), schemas };
    })();
    compiled.catch(() => { compiled = undefined; });
  }
  return compiled;
}

interface Job { xml: string; resolve(): void; reject(e: SamlError): void; done: boolean; id?: number; timer?: NodeJS.Timeout }
interface Live { worker: Worker; port: MessagePort; signal: Int32Array }

// Self-test at every start: a minimal valid LogoutResponse must pass and an empty one must not, which
// proves the schemas compiled and the verdicts are read right.
const SELF_TEST_VALID = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_t" Version="2.0" IssueInstant="2000-01-01T00:00:00Z">'
  + '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>';
const SELF_TEST_INVALID = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>';

export function createXsdValidator(o: XsdOptions = {}): XsdValidator {
  const maxQueue = o.maxQueue ?? 256;
  const maxInFlight = o.maxInFlight ?? 16;
  const docsPerRun = o.docsPerRun ?? 1000;
  const maxMemoryPages = o.maxMemoryPages ?? 2048;
  const startTimeoutMs = o.startTimeoutMs ?? 15_000;
  const listeners = new Set<(event: string, detail: Record<string, unknown>) => void>();
  const emit = (event: string, detail: Record<string, unknown>) => { for (const fn of listeners) fn(event, detail); };
  const stats = { starts: 0, runs: 0, documents: 0, restarts: 0 };
  // Bounded by count and by characters: a flood of large valid messages cannot make it a memory sink.
  const recent = new Map<string, true>();
  const RECENT_MAX = 128;
  const RECENT_MAX_CHARS = 4 * 1024 * 1024;
  let recentChars = 0;

  let live: Live | null = null;
  let starting: Promise<Live> | null = null;
  let queue: Job[] = []; // not yet handed to the worker
  let sent: Job[] = []; // handed to the worker, in the order it answers
  let seq = 0;
  let closed = false;

  const unavailable = (detail: string) => new SamlError('GW_SAML_SCHEMA_UNAVAILABLE', detail);
  function settle(j: Job, err?: SamlError) {
    if (j.done) return;
    j.done = true;
    clearTimeout(j.timer);
    if (err) j.reject(err); else j.resolve();
  }
  function remember(xml: string) {
    if (xml.length > RECENT_MAX_CHARS / 16) return;
    if (recent.delete(xml)) recentChars -= xml.length;
    recent.set(xml, true);
    recentChars += xml.length;
    while (recent.size > RECENT_MAX || recentChars > RECENT_MAX_CHARS) {
      const oldest = recent.keys().next().value!;
      recent.delete(oldest);
      recentChars -= oldest.length;
    }
  }
  const handOver = (l: Live, id: number, xml: string) => {
    l.port.postMessage({ id, xml } satisfies DocMessage);
    Atomics.add(l.signal, 0, 1);
    Atomics.notify(l.signal, 0);
  };

  /**
   * Terminates the worker; the messages it had not answered go back to the front of the queue. When the
   * worker itself crashed (`blameCurrent`), the message it was on is answered 503 instead, so that a
   * message that crashes workers cannot do it again and again.
   */
  function drop(l: Live, reason: string, blameCurrent = false) {
    if (l !== live) return;
    live = null;
    starting = null;
    stats.restarts++;
    void l.worker.terminate();
    l.port.close();
    if (blameCurrent && sent[0]) settle(sent[0], unavailable(`validator failed: ${reason}`));
    const back = sent.filter((j) => !j.done);
    sent = [];
    queue = [...back, ...queue];
    emit(VALIDATOR_EVENT, { reason, requeued: back.length });
    // The next one is started now, so that it is warm when the next message comes.
    if (!closed) start().catch(() => {});
    pump();
  }

  function onMessage(l: Live, m: FromWorker) {
    if (l !== live) return;
    if (m.type === 'run') { stats.runs++; return; }
    if (m.type === 'dead') { drop(l, `worker cannot run xmllint: ${m.reason}`); return; }
    const at = sent.findIndex((j) => j.id === m.id);
    if (at < 0) return;
    const j = sent[at]!;
    sent.splice(at, 1);
    if (m.type === 'failed') {
      emit(VALIDATOR_EVENT, { reason: `run failed: ${m.reason}` });
      settle(j, unavailable(`validator failed: ${m.reason}`));
    } else if (m.valid) { remember(j.xml); settle(j); } else settle(j, new SamlError('GW_SAML_SCHEMA', `xsd: ${m.reason}`));
    pump();
  }

  function start(): Promise<Live> {
    if (starting) return starting;
    const p = (async () => {
      const { module, schemas } = await compileOnce();
      // stdout and stderr stay the parent's; xmllint's output arrives through the print callbacks
      // (xsd-worker.mjs), so nothing reaches the JSON log stream.
      const worker = new Worker(new URL('./xsd-worker.mjs', import.meta.url), { execArgv: [] });
      const channel = new MessageChannel();
      const shared = new SharedArrayBuffer(4);
      const l: Live = { worker, port: channel.port1, signal: new Int32Array(shared) };
      stats.starts++;
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => done(new Error(`no answer within ${startTimeoutMs} ms`)), startTimeoutMs);
          const verdicts = new Map<number, boolean>();
          function done(err?: Error) {
            clearTimeout(timer);
            worker.off('message', onInit); worker.off('error', done); worker.off('exit', onExit);
            if (err) reject(err); else resolve();
          }
          function onInit(m: FromWorker) {
            if (m.type === 'run') stats.runs++;
            else if (m.type === 'dead' || m.type === 'failed') done(new Error(m.reason));
            else if (m.type === 'verdict') {
              verdicts.set(m.id, m.valid);
              if (verdicts.size < 2) return;
              if (verdicts.get(-1) === true && verdicts.get(-2) === false) done();
              else done(new Error(`schema self-test failed (${JSON.stringify([...verdicts])})`));
            }
          }
          const onExit = (code: number) => done(new Error(`worker exited (${code})`));
          worker.on('message', onInit); worker.on('error', done); worker.on('exit', onExit);
          worker.postMessage({
            type: 'init', module, schemas, main: SCHEMA_FILES[0]!, maxMemoryPages, docsPerRun, port: channel.port2, signal: shared,
          } satisfies InitMessage, [channel.port2]);
          handOver(l, -1, SELF_TEST_VALID);
          handOver(l, -2, SELF_TEST_INVALID);
        });
      } catch (err) {
        void worker.terminate();
        channel.port1.close();
        throw err;
      }
      worker.on('message', (m: FromWorker) => onMessage(l, m));
      worker.on('error', (err) => drop(l, `worker error: ${err.message}`, true));
      worker.on('exit', (code) => drop(l, `worker exited (${code})`, true));
      // An idle validator must not keep a process (the CLI, a test) alive; a waiting caller's timer does.
      // (After the listeners: adding a 'message' listener refs the worker's port again.)
      worker.unref();
      channel.port1.unref();
      if (closed) { void worker.terminate(); throw new Error('closed'); }
      live = l;
      return l;
    })();
    starting = p;
    p.catch((err: Error) => {
      if (starting === p) starting = null;
      emit(VALIDATOR_EVENT, { reason: `start failed: ${err.message}` });
      // Nobody can be served until a start succeeds: the waiting messages are answered now.
      const waiting = queue;
      queue = [];
      for (const j of waiting) settle(j, unavailable(`validator did not start: ${err.message}`));
    });
    return p;
  }

  function pump() {
    if (closed || queue.length === 0) return;
    if (!live) { start().then(pump, () => {}); return; }
    while (sent.length < maxInFlight && queue.length > 0) {
      const j = queue.shift()!;
      j.id = ++seq;
      sent.push(j);
      stats.documents++;
      live.port.postMessage({ id: j.id, xml: j.xml } satisfies DocMessage);
    }
    Atomics.add(live.signal, 0, 1);
    Atomics.notify(live.signal, 0);
  }

  function expire(j: Job) {
    settle(j, unavailable('schema validation did not finish in time'));
    queue = queue.filter((x) => x !== j);
    // The worker answers in order, so it is on sent[0]: when that message is past its deadline (this one,
    // or one that expired earlier while it still waited its turn), the worker is taken as stuck on it.
    if (live && sent.length > 0 && (sent[0] === j || sent[0]!.done)) drop(live, 'deadline passed while validating a message');
  }

  return {
    validate(xml, timeoutMs = DEFAULT_SCHEMA_TIMEOUT_MS) {
      if (recent.has(xml)) { remember(xml); return Promise.resolve(); }
      if (closed) return Promise.reject(unavailable('validator closed'));
      const waiting = queue.length + sent.filter((j) => !j.done).length;
      if (waiting >= maxQueue) return Promise.reject(unavailable(`${waiting} messages already waiting`));
      return new Promise<void>((resolve, reject) => {
        const j: Job = { xml, resolve, reject, done: false };
        j.timer = setTimeout(() => expire(j), timeoutMs);
        queue.push(j);
        pump();
      });
    },
    passed: (xml) => recent.has(xml),
    async warm() { await start(); },
    subscribe(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; },
    stats: () => ({ ...stats, queued: queue.length + sent.filter((j) => !j.done).length, cached: recent.size }),
    async close() {
      closed = true;
      for (const j of [...queue, ...sent]) settle(j, unavailable('validator closed'));
      queue = [];
      sent = [];
      const l = live;
      live = null;
      if (l) { l.port.close(); await l.worker.terminate(); }
    },
  };
}

/**
 * Proves that the validator can run here (compile, worker start, schemas, self-test) in a short-lived child
 * process (xsd-selftest.ts), so that the gateway's own process starts no worker until the first message
 * (one started and stopped in it leaves ≈ 19 MiB of RSS behind). Rejects with the child's reason. The child
 * is the same Node binary without the parent's flags (a test runner's loaders stay out of it).
 */
export function selfTestInChild(o: XsdOptions & { timeoutMs?: number } = {}): Promise<void> {
  const { timeoutMs = 60_000, ...options } = o;
  const script = fileURLToPath(new URL('./xsd-selftest.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`self-test gave no answer within ${timeoutMs} ms`)); }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`self-test could not be started: ${err.message}`)); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(stderr.trim().split('\n').slice(-3).join(' ') || `self-test ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

let shared: XsdValidator | undefined;
/** The process-wide validator: one worker however many gateways (tests) share the process. */
export function sharedXsdValidator(): XsdValidator {
  shared ??= createXsdValidator();
  return shared;
}
