import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { rewriteCompletion, type RewrittenCompletion } from './completion-rewrite.js';
import { type CompletionTask } from './completion-thread.worker.js';

/**
 * Answers at least this large are rewritten on the completion thread. Decoding, parsing and serialising a
 * non-streamed answer costs the api's thread about 6 ms per MiB here (100 ms for one of 16 MiB, the largest
 * PROXY_MAX_RESPONSE_BYTES lets in by default), during which no other request is served; below this size the
 * hop to the thread costs more than it saves.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

/**
 * The thread's script: built beside this module. Run from the sources (the tests load them through their own
 * compiler, which a worker thread does not have), the same file of the build (`npm test` builds first).
 */
const WORKER_SCRIPT: URL = (() => {
  const beside = new URL('./completion-thread.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  // apps/api/src/proxy → the repository's root, four levels up; the build mirrors the tree under dist/.
  return new URL('../../../../dist/apps/api/src/proxy/completion-thread.worker.js', import.meta.url);
})();

type Reply = { id: number; ok: true; result: RewrittenCompletion } | { id: number; ok: false; error: string };

/**
 * Rewrites non-streamed answers (rewriteCompletion): small ones here, large ones on one worker thread, started on
 * first use and again after it died, so that a tenant's large answers queue there instead of stalling every
 * request on the api's thread. The thread never keeps the process alive.
 */
export class CompletionThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: RewrittenCompletion) => void; reject: (e: Error) => void }>();

  constructor(private readonly offThreadBytes = OFF_THREAD_BYTES) {}

  /** `raw` is handed over: a large one's memory moves to the thread (the caller must not read it afterwards). */
  async rewrite(raw: Buffer, model: string, keepBody: boolean): Promise<RewrittenCompletion> {
    if (raw.length < this.offThreadBytes) return rewriteCompletion(raw, model, keepBody);
    const id = this.nextId++;
    // The bytes move to the thread without a copy when the buffer is theirs alone (Buffer.concat's of this size is).
    const own =
      raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength
        ? (raw.buffer as ArrayBuffer)
        : raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const task: CompletionTask = { id, raw: own as ArrayBuffer, model, keepBody };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage(task, [task.raw]);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SCRIPT);
    w.unref();
    w.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve({ ...m.result, bytes: Buffer.from(m.result.bytes.buffer, m.result.bytes.byteOffset, m.result.bytes.byteLength) });
      else p.reject(new Error(m.error));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the completion thread stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }
}
