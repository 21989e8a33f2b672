import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MalformedAnswer, rewriteCompletion, type RewrittenCompletion } from './completion-rewrite.js';
import { type CompletionTask } from './completion-thread.worker.js';

/**
 * Answers at least this large are rewritten on the completion thread. Decoding, parsing and serialising a
 * non-streamed answer costs the api's thread about 6 ms per MiB here (100 ms for one of 16 MiB, the largest
 * PROXY_MAX_RESPONSE_BYTES lets in by default), during which no other request is served; below this size the
 * hop to the thread costs more than it saves.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

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

type Reply = { id: number; ok: true; result: RewrittenCompletion } | { id: number; ok: false; malformed: boolean; error: string };
type Pending = { resolve: (r: RewrittenCompletion) => void; reject: (e: Error) => void };

/**
 * Rewrites non-streamed answers (rewriteCompletion): small ones here, large ones on one worker thread, started on
 * first use and again after it died, so that a tenant's large answers queue there instead of stalling every
 * request on the api's thread. The thread never keeps the process alive; after `close` (shutdown) answers are
 * rewritten here.
 */
export class CompletionThread {
  private worker: Worker | null = null;
  private closed = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
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
   * with MalformedAnswer for an answer that is not a JSON object, CompletionThreadFailed when the thread died before
   * answering, and `signal`'s reason when it aborts first (a large answer may queue behind others).
   */
  async rewrite(raw: Buffer, model: string, examine: boolean, signal?: AbortSignal): Promise<RewrittenCompletion> {
    if (raw.length < this.offThreadBytes || this.closed || !this.script) return rewriteCompletion(raw, model, examine);
    signal?.throwIfAborted();
    const id = this.nextId++;
    // The bytes move to the thread without a copy when the buffer is theirs alone (Buffer.concat's of this size is).
    const own =
      raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength
        ? (raw.buffer as ArrayBuffer)
        : raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const task: CompletionTask = { id, raw: own as ArrayBuffer, model, examine };
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve: (r) => (settle(), resolve(r)), reject: (e) => (settle(), reject(e)) });
      this.thread().postMessage(task, [task.raw]);
    });
  }

  /** Lets the answers under way finish (at most `drainMs`), then stops the thread; later answers are rewritten here. */
  async close(drainMs = 10_000): Promise<void> {
    this.closed = true;
    for (const end = Date.now() + drainMs; this.pending.size > 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script!);
    w.unref();
    w.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve({ ...m.result, bytes: Buffer.from(m.result.bytes.buffer, m.result.bytes.byteOffset, m.result.bytes.byteLength) });
      else p.reject(m.malformed ? new MalformedAnswer(m.error) : new CompletionThreadFailed(m.error));
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = null;
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(new CompletionThreadFailed(`the completion thread ${why}`));
      void w.terminate();
    };
    w.on('error', (err) => fail(`failed: ${err.message}`));
    w.on('messageerror', (err) => fail(`sent a message that could not be read: ${err.message}`));
    w.on('exit', (code) => fail(`stopped (exit code ${code})`));
    this.worker = w;
    return w;
  }
}
