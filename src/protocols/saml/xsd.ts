// XML Schema validation of inbound SAML messages against the SAML 2.0 protocol schema (and, through its
// imports, the assertion, XML Signature and XML Encryption schemas; schemas/README.md says where they
// come from). The engine is libxml2 compiled to WebAssembly (xmllint-wasm), kept warm:
//
//  - the wasm is read and compiled once per process, here, and handed to the worker (a compiled
//    WebAssembly.Module can be posted to a worker thread), so a restart costs a thread, not a compile;
//  - one long-lived worker thread owns libxml2 (xsd-worker.ts): a hung or crashed run can be stopped by
//    terminating it without touching the event loop that serves requests;
//  - requests queue (bounded: past maxQueue the answer is an immediate 503), and every message waiting
//    when the worker comes free goes into the next run (up to maxBatch documents / maxBatchBytes), so
//    the schema is parsed once per run, not once per message: the busier, the cheaper per message;
//  - every message has a deadline; past it the caller gets GW_SAML_SCHEMA_UNAVAILABLE (503), and when no
//    one still waits for the run in progress the worker is terminated and a fresh one started;
//  - a run that fails as a whole (libxml2 out of memory, an abort) is retried one message at a time, so one
//    hostile message cannot fail the others batched with it.
//
// A document that validated is remembered (a small LRU of the exact text): samlify asks again for the same
// message through its schema-validator hook (xml-guard.ts), and that second answer costs a lookup.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SamlError } from './errors.ts';
import type { FromWorker, SchemaFile, ToWorker } from './xsd-worker.ts';

const SCHEMA_FILES = ['saml-schema-protocol-2.0.xsd', 'saml-schema-assertion-2.0.xsd', 'xmldsig-core-schema.xsd', 'xenc-schema.xsd'];
export const DEFAULT_SCHEMA_TIMEOUT_MS = 2000;
/** The code under the pino field `event` for the validator's own trouble (start failed, restarted, run failed). */
export const VALIDATOR_EVENT = 'GW_ERR_SAML_SCHEMA_VALIDATOR';

export interface XsdOptions {
  /** Messages allowed to wait; one more is refused at once (503). */
  maxQueue?: number;
  /** Documents per xmllint run. */
  maxBatch?: number;
  /** Characters per xmllint run (a single larger document still runs alone). */
  maxBatchBytes?: number;
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
  /** Starts the worker (compile, schemas, self-test) now instead of on the first message. */
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

interface Job { xml: string; resolve(): void; reject(e: SamlError): void; done: boolean; isolate: boolean; timer?: NodeJS.Timeout }

export function createXsdValidator(o: XsdOptions = {}): XsdValidator {
  const maxQueue = o.maxQueue ?? 256;
  const maxBatch = o.maxBatch ?? 32;
  const maxBatchBytes = o.maxBatchBytes ?? 512 * 1024;
  const maxMemoryPages = o.maxMemoryPages ?? 2048;
  const startTimeoutMs = o.startTimeoutMs ?? 15_000;
  const listeners = new Set<(event: string, detail: Record<string, unknown>) => void>();
  const emit = (event: string, detail: Record<string, unknown>) => { for (const fn of listeners) fn(event, detail); };
  const stats = { starts: 0, runs: 0, documents: 0, restarts: 0 };
  const recent = new Map<string, true>();
  const RECENT_MAX = 128;

  let worker: Worker | null = null;
  let starting: Promise<Worker> | null = null;
  let queue: Job[] = [];
  let inFlight: { id: number; jobs: Job[]; worker: Worker } | null = null;
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
    recent.delete(xml);
    recent.set(xml, true);
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  }

  /** Drops the worker (terminating it); what it was running goes back to the queue, one message per run. */
  function drop(w: Worker, reason: string) {
    if (w !== worker) return;
    worker = null;
    starting = null;
    stats.restarts++;
    void w.terminate();
    const jobs = inFlight?.worker === w ? inFlight.jobs.filter((j) => !j.done) : [];
    inFlight = null;
    emit(VALIDATOR_EVENT, { reason, requeued: jobs.length });
    // The next one is started now, so that it is warm when the next message comes.
    if (!closed) start().catch(() => {});
    if (jobs.length === 1) settle(jobs[0]!, unavailable(`validator failed: ${reason}`));
    else { for (const j of jobs) j.isolate = true; queue = [...jobs, ...queue]; }
    pump();
  }

  function onMessage(w: Worker, m: FromWorker) {
    if (m.type !== 'done' && m.type !== 'failed') return;
    if (!inFlight || inFlight.worker !== w || inFlight.id !== m.id) return;
    const { jobs } = inFlight;
    inFlight = null;
    if (m.type === 'done') {
      jobs.forEach((j, i) => {
        const r = m.results[i]!;
        if (r.valid) { remember(j.xml); settle(j); } else settle(j, new SamlError('GW_SAML_SCHEMA', `xsd: ${r.reason}`));
      });
    } else {
      const live = jobs.filter((j) => !j.done);
      emit(VALIDATOR_EVENT, { reason: `run failed: ${m.reason}`, documents: jobs.length });
      if (live.length === 1 && jobs.length === 1) settle(live[0]!, unavailable(`validator failed: ${m.reason}`));
      else { for (const j of live) j.isolate = true; queue = [...live, ...queue]; }
    }
    pump();
  }

  function start(): Promise<Worker> {
    if (starting) return starting;
    const p = (async () => {
      const { module, schemas } = await compileOnce();
      // Its stdout and stderr stay the parent's; xmllint's output arrives through the print callbacks
      // (xsd-worker.ts), so nothing reaches the JSON log stream.
      const w = new Worker(new URL('./xsd-worker.ts', import.meta.url), { execArgv: [] });
      stats.starts++;
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer within ${startTimeoutMs} ms`)), startTimeoutMs);
          const done = (err?: Error) => { clearTimeout(timer); w.off('message', onInit); w.off('error', done); w.off('exit', onExit); if (err) reject(err); else resolve(); };
          const onInit = (m: FromWorker) => { if (m.type === 'ready') done(); else if (m.type === 'init-failed') done(new Error(m.reason)); };
          const onExit = (code: number) => done(new Error(`worker exited (${code})`));
          w.on('message', onInit); w.on('error', done); w.on('exit', onExit);
          w.postMessage({ type: 'init', module, schemas, main: SCHEMA_FILES[0]!, maxMemoryPages } satisfies ToWorker);
        });
      } catch (err) {
        void w.terminate();
        throw err;
      }
      w.on('message', (m: FromWorker) => onMessage(w, m));
      w.on('error', (err) => drop(w, `worker error: ${err.message}`));
      w.on('exit', (code) => drop(w, `worker exited (${code})`));
      // An idle validator must not keep a process (the CLI, a test) alive; a waiting caller's timer does.
      // (After the listeners: adding a 'message' listener refs the worker's port again.)
      w.unref();
      if (closed) { void w.terminate(); throw new Error('closed'); }
      worker = w;
      return w;
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
    if (closed || inFlight || queue.length === 0) return;
    if (!worker) { start().then(pump, () => {}); return; }
    const jobs: Job[] = [];
    let size = 0;
    while (queue.length > 0 && jobs.length < maxBatch) {
      const j = queue[0]!;
      if (jobs.length > 0 && (j.isolate || size + j.xml.length > maxBatchBytes)) break;
      queue.shift();
      jobs.push(j);
      size += j.xml.length;
      if (j.isolate) break;
    }
    const id = ++seq;
    inFlight = { id, jobs, worker };
    stats.runs++;
    stats.documents += jobs.length;
    worker.postMessage({ type: 'run', id, docs: jobs.map((j) => j.xml) } satisfies ToWorker);
  }

  function expire(j: Job) {
    settle(j, unavailable('schema validation did not finish in time'));
    queue = queue.filter((x) => x !== j);
    // No one waits for the run in progress any more: treat the worker as hung.
    if (inFlight && inFlight.jobs.includes(j) && inFlight.jobs.every((x) => x.done)) drop(inFlight.worker, 'deadline passed during a run');
  }

  return {
    validate(xml, timeoutMs = DEFAULT_SCHEMA_TIMEOUT_MS) {
      if (recent.has(xml)) { remember(xml); return Promise.resolve(); }
      if (closed) return Promise.reject(unavailable('validator closed'));
      if (queue.length >= maxQueue) return Promise.reject(unavailable(`${queue.length} messages already waiting`));
      return new Promise<void>((resolve, reject) => {
        const j: Job = { xml, resolve, reject, done: false, isolate: false };
        j.timer = setTimeout(() => expire(j), timeoutMs);
        queue.push(j);
        pump();
      });
    },
    async warm() { await start(); },
    subscribe(fn) { listeners.add(fn); return () => { listeners.delete(fn); }; },
    stats: () => ({ ...stats, queued: queue.length, cached: recent.size }),
    async close() {
      closed = true;
      for (const j of [...queue, ...(inFlight?.jobs ?? [])]) settle(j, unavailable('validator closed'));
      queue = [];
      inFlight = null;
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

let shared: XsdValidator | undefined;
/** The process-wide validator: one worker however many gateways (tests) share the process. */
export function sharedXsdValidator(): XsdValidator {
  shared ??= createXsdValidator();
  return shared;
}
