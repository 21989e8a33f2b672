import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type CompletionForm, MalformedAnswer, rewriteCompletion, type RewrittenCompletion } from './completion-rewrite.js';
import { type CompletionTask } from './completion-thread.worker.js';

/**
 * Answers at least this large are rewritten on the completion thread. Decoding, parsing and serialising a
 * non-streamed answer costs the api's thread about 6 ms per MiB here (100 ms for one of 16 MiB, the largest
 * PROXY_MAX_RESPONSE_BYTES lets in by default), during which no other request is served; below this size the
 * hop to the thread costs more than it saves.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

/** The completion thread's old-generation heap, MiB. */
const THREAD_HEAP_MB = 512;

/** The thread failed (crashed, or was stopped) before it answered: our fault, not the upstream's. */
export class CompletionThreadFailed extends Error {
  override readonly name = 'CompletionThreadFailed';
}

/**
 * The thread's script, built beside this module; from the sources (the tests load them through their own compiler,
 * which a worker thread does not have), the same file of the build. Null when neither exists: everything is then
 * rewritten on the api's thread.
 */
function workerScript(): URL | null {
  const beside = new URL('./completion-thread.worker.js', import.meta.url);
  // apps/api/src/proxy → the repository's root, four levels up; the build mirrors the tree under dist/.
  const built = new URL('../../../../dist/apps/api/src/proxy/completion-thread.worker.js', import.meta.url);
  return [beside, built].find((u) => existsSync(fileURLToPath(u))) ?? null;
}

type Reply = { id: number; ok: true; result: RewrittenCompletion } | { id: number; ok: false; malformed: boolean; reported: boolean; error: string };
/** A large answer waiting for, or on, the thread. */
interface Job {
  task: CompletionTask;
  resolve: (r: RewrittenCompletion) => void;
  reject: (e: Error) => void;
}

/**
 * Rewrites non-streamed answers (rewriteCompletion): small ones here, large ones on one worker thread (started on
 * first use and again after it died), so that they never stall the requests on the api's thread. The thread takes
 * one answer at a time, in turns between tenants: each tenant's answers wait in its own line, and the next answer
 * comes from the waiting tenant served longest ago, so one tenant's many (or slow) large answers delay another's by
 * at most one of them. The thread never keeps the process alive; after `close` (shutdown) answers are rewritten here.
 */
export class CompletionThread {
  private worker: Worker | null = null;
  private closed = false;
  private nextId = 0;
  /** Per tenant, its answers waiting, in arrival order. */
  private readonly lines = new Map<string, Job[]>();
  /** When each tenant was last served (a count of answers handed to the thread); cleared whenever no answer waits. */
  private readonly servedAt = new Map<string, number>();
  private handed = 0;
  /** The answer on the thread now. */
  private current: Job | null = null;
  private readonly script: URL | null;

  constructor(
    private readonly offThreadBytes = OFF_THREAD_BYTES,
    warn: (message: string) => void = () => undefined,
  ) {
    this.script = workerScript();
    if (!this.script) warn('the completion thread script is missing (run from unbuilt sources?): large answers are rewritten on the api thread');
  }

  /**
   * `raw` is handed over: a large one's memory moves to the thread (the caller must not read it afterwards). Rejects
   * with MalformedAnswer for an answer that is not a JSON object (as events: or cannot be sent as events, see
   * rewriteCompletion), CompletionThreadFailed when the thread died on it,
   * and `signal`'s reason when it aborts first (a waiting answer then leaves its line unprocessed).
   */
  async rewrite(raw: Buffer, model: string, form: CompletionForm, signal?: AbortSignal, tenant = ''): Promise<RewrittenCompletion> {
    if (raw.length < this.offThreadBytes || this.closed || !this.script) return rewriteCompletion(raw, model, form);
    signal?.throwIfAborted();
    // The bytes move to the thread without a copy when the buffer is theirs alone (Buffer.concat's of this size is).
    const own =
      raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength
        ? (raw.buffer as ArrayBuffer)
        : raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const task: CompletionTask = { id: this.nextId++, raw: own as ArrayBuffer, model, form };
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const line = this.lines.get(tenant);
        const at = line?.indexOf(job) ?? -1;
        if (at >= 0) line!.splice(at, 1);
        if (line?.length === 0) this.lines.delete(tenant);
        reject(signal!.reason as Error);
      };
      const job: Job = {
        task,
        resolve: (r) => (signal?.removeEventListener('abort', onAbort), resolve(r)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const line = this.lines.get(tenant);
      if (line) line.push(job);
      else this.lines.set(tenant, [job]);
      this.next();
    });
  }

  /** Lets the answers waiting and under way finish (at most `drainMs`), then stops the thread; later ones are rewritten here. */
  async close(drainMs = 10_000): Promise<void> {
    this.closed = true;
    for (const end = Date.now() + drainMs; (this.current || this.lines.size > 0) && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  /**
   * Hands the thread, when it is free, the oldest answer of the waiting tenant served longest ago (never served:
   * first), so that tenants with answers waiting take turns.
   */
  private next(): void {
    if (this.current) return;
    let tenant: string | undefined;
    let oldest = Infinity;
    for (const t of this.lines.keys()) {
      const at = this.servedAt.get(t) ?? -1;
      if (at < oldest) [tenant, oldest] = [t, at];
    }
    if (tenant === undefined) return this.servedAt.clear();
    const line = this.lines.get(tenant)!;
    const job = line.shift()!;
    if (line.length === 0) this.lines.delete(tenant);
    this.servedAt.set(tenant, this.handed++);
    try {
      this.thread().postMessage(job.task, [job.task.raw]);
      this.current = job;
    } catch (err) {
      // No thread could be started: this answer fails as ours, and the next one tries again.
      job.reject(new CompletionThreadFailed(`the completion thread could not start: ${(err as Error).message}`));
      this.next();
    }
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // A bounded heap: an answer whose shape blows it up (millions of tiny values) ends that thread and that call,
    // not the api (a 16 MiB answer of text or log-probabilities needs a small part of it).
    const w = new Worker(this.script!, { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } });
    w.unref();
    w.on('message', (m: Reply) => {
      const job = this.current;
      if (!job || job.task.id !== m.id) return;
      this.current = null;
      if (m.ok) job.resolve({ ...m.result, bytes: Buffer.from(m.result.bytes.buffer, m.result.bytes.byteOffset, m.result.bytes.byteLength) });
      else job.reject(m.malformed ? new MalformedAnswer(m.error, m.reported) : new CompletionThreadFailed(m.error));
      this.next();
    });
    // The answer on the thread fails with it; the others wait for the next thread.
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = null;
      const job = this.current;
      this.current = null;
      job?.reject(new CompletionThreadFailed(`the completion thread ${why}`));
      void w.terminate();
      this.next();
    };
    w.on('error', (err) => fail(`failed: ${err.message}`));
    w.on('messageerror', (err) => fail(`sent a message that could not be read: ${err.message}`));
    w.on('exit', (code) => fail(`stopped (exit code ${code})`));
    this.worker = w;
    return w;
  }
}
