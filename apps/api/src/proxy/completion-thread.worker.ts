import { parentPort } from 'node:worker_threads';
import { type CompletionForm, MalformedAnswer, rewriteCompletion } from './completion-rewrite.js';

/** A request to the completion thread: the answer's bytes (transferred), its model and the form to make of it. */
export interface CompletionTask {
  id: number;
  raw: ArrayBuffer;
  model: string;
  form: CompletionForm;
}

// The thread's whole work: one rewrite per message, in order; the result's bytes are transferred back.
parentPort?.on('message', (task: CompletionTask) => {
  try {
    const r = rewriteCompletion(new Uint8Array(task.raw), task.model, task.form);
    parentPort!.postMessage({ id: task.id, ok: true, result: r }, [r.bytes.buffer as ArrayBuffer]);
  } catch (err) {
    const malformed = err instanceof MalformedAnswer;
    parentPort!.postMessage({ id: task.id, ok: false, malformed, reported: malformed && err.reported, error: (err as Error)?.message ?? String(err) });
  }
});
