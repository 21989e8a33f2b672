import { type EndCall } from './key-limits.service.js';

/**
 * One admitted call's slot among its key's calls in flight (`concurrentRequests`): given back once the answer is
 * over (its response closed: sent, or the client gone) and no work still holds it. Work that outlives the answer,
 * the proxy's upstream call after its client left, holds the slot until it ends.
 */
export class CallSlot {
  private holds = 0;
  private closed = false;

  constructor(private readonly end: EndCall) {}

  /** The response is over (sent, or its client gone). */
  responseClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.holds === 0) this.end();
  }

  /**
   * Holds the slot while some work runs: answers how to let go of it, or null when the response is already over
   * (the client left before the work began: there is no one to do it for, and the slot is given back).
   */
  hold(): (() => void) | null {
    if (this.closed) return null;
    this.holds += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds -= 1;
      if (this.holds === 0 && this.closed) this.end();
    };
  }
}

const SLOT = Symbol('router:call-slot');
type WithSlot = { [SLOT]?: CallSlot };

/** Attaches an admitted call's slot to its request (the key-limits guard does). */
export function attachSlot(req: object, slot: CallSlot): void {
  (req as WithSlot)[SLOT] = slot;
}

/**
 * Runs `work` while holding the request's slot, if its key limits calls in flight; answers undefined without
 * running it when the slot's response is already over (the client left before the work began).
 */
export async function whileHoldingSlot<T>(req: object, work: () => Promise<T>): Promise<T | undefined> {
  const slot = (req as WithSlot)[SLOT];
  if (!slot) return work();
  const release = slot.hold();
  if (!release) return undefined;
  try {
    return await work();
  } finally {
    release();
  }
}
