import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work belongs to, carried across awaits by AsyncLocalStorage, so every log record written
 * while serving a request names its request id without threading it through every call.
 */
interface RequestContext {
  readonly requestId: string;
}
const storage = new AsyncLocalStorage<RequestContext>();

/** The id of the request being served here, or undefined outside a request (startup, workers, timers). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `fn` inside the request's context: what it starts, awaited or scheduled, sees the request id. */
export function enterRequest(requestId: string, fn: () => void): void {
  storage.run({ requestId }, fn);
}
