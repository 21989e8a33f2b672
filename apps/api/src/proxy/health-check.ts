import { randomBytes } from 'node:crypto';
import { type Model } from '@app/contracts';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import { bodyBytes } from './bounded-body.js';
import { jsonForm, rewriteCompletion } from './completion-rewrite.js';
import { type Endpoint } from './endpoint-url.js';
import { ttftLimit } from './ttft-limit.js';
import { classify, type UpstreamRequest, type Upstreams } from './upstream.js';

/**
 * The router's own check of a model: whose breaker is open and past its cool-down (the half-open probe), or whose
 * failures in a row reached the threshold. The smallest request of the
 * breaker's endpoint (a one-token completion of "ping", or the embedding of "ping"), not any tenant's call, so
 * that no caller can hold a healthy model out by making the probe fail. true: the upstream answers (a 2xx that is
 * its endpoint's answer, or a 4xx about the request itself, which a tenant's call would have relayed without blaming
 * the model); false: it fails as a call would be retried or fall back for (5xx, a refusal of the router's key or
 * model, a redirect, a 2xx that is not an answer, out of time, unreachable, a connection not taken in time); null:
 * no verdict (a 429; it cannot be called as configured; or it waited for one of the router's own connections in
 * use by its other checks).
 * Its time-to-first-byte limit starts again once it is sent, as a call's does, and it goes out on the router's own
 * connections (`own`), so that tenants' calls filling the pool can neither starve it nor make it late. Nobody is
 * charged for it.
 */
export async function healthCheck(upstreams: Upstreams, model: Model, endpoint: Endpoint, timeoutMs: number): Promise<boolean | null> {
  const upstreamModel = model.upstreamModel ?? model.id;
  const body =
    endpoint === 'embeddings'
      ? { model: upstreamModel, input: 'ping' }
      : { model: upstreamModel, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
  const ac = new AbortController();
  const signal = ac.signal;
  const request: UpstreamRequest = {
    endpoint,
    body: JSON.stringify(body),
    inputEstimate: 1,
    stream: false,
    signal,
    headers: { [REQUEST_ID_HEADER]: `breaker-probe-${randomBytes(9).toString('base64url')}` },
    sent: false,
    own: true,
  };
  const stop = ttftLimit(request, ac, timeoutMs);
  let responded = false;
  try {
    const answer = await upstreams.post(model, request);
    responded = true;
    // Judged as a call's answer is: one that is not its endpoint's answer fails (MalformedAnswer, classified as a retry).
    rewriteCompletion(await bodyBytes(answer.chunks), model.id, jsonForm(endpoint));
    return true;
  } catch (err) {
    // Not sent in time on the router's own connections: the upstream did not take the connection (or its TLS)
    // within the limit, unless every one of those connections was carrying another of the router's requests.
    if (signal.aborted && !request.sent) return upstreams.ownCrowded(model.baseUrl ?? '') ? null : false;
    const f = classify(err, signal, responded);
    if (f.next === 'relay' || f.reason === 'too-large') return true;
    if (f.next === 'retry' || f.next === 'fallback') return false;
    // A rate limit is not a fault: no verdict (a tenant's calls find the limit and rest the model themselves).
    return null;
  } finally {
    stop();
  }
}
