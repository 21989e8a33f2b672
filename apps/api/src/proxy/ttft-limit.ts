import { TtftTimeout, type UpstreamRequest } from './upstream.js';

/**
 * The time-to-first-byte limit of an attempt (a tenant's call, or the router's own check). It bounds the wait for a
 * connection in the pool (a request not sent by then is given up, uncharged, and retried or replaced like any
 * timeout), and starts again when the request reaches the upstream (its body written to a connection): an attempt
 * cut by it is charged its input (`cut`), which must not fall on a caller whose request waited behind other
 * tenants' calls, and a check cut by it says the model is down, which must not be said of a model that answered
 * in time once asked. `sentMs`: the limit once sent, when it differs (none for a non-streamed call, whose first
 * byte comes with its whole answer: the whole-call limit bounds it). Answers how to stop it.
 */
export function ttftLimit(request: UpstreamRequest, ac: AbortController, ms: number, sentMs = ms): () => void {
  const start = (limit: number) => (Number.isFinite(limit) ? setTimeout(() => ac.abort(new TtftTimeout()), limit) : undefined);
  let timer = start(ms);
  request.onSent = () => {
    clearTimeout(timer);
    timer = start(sentMs);
  };
  return () => {
    request.onSent = undefined;
    clearTimeout(timer);
  };
}
