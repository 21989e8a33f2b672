/** How long a model rests after a 429 whose upstream named no Retry-After. */
export const DEFAULT_REST_MS = 1000;

/**
 * Models whose upstream answered 429, each resting on this replica until the wait it asked for (Retry-After, or
 * DEFAULT_REST_MS): no call goes to it meanwhile, so a rate-limited upstream is not asked again and again, and the
 * caller is told how long to wait when no other model answers. A rate limit is the upstream's, shared by every
 * tenant the router calls it for, so the rest is too. An entry lives at most MAX_RETRY_AFTER_MS, one per model.
 */
export class RateLimitRests {
  private readonly until = new Map<string, number>();

  rest(model: string, waitMs: number | undefined, now = Date.now()): void {
    const until = now + (waitMs ?? DEFAULT_REST_MS);
    if (until > (this.until.get(model) ?? 0)) this.until.set(model, until);
  }

  /** How long `model` still rests (0: it may be called). */
  remainingMs(model: string, now = Date.now()): number {
    const until = this.until.get(model);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.until.delete(model);
    return 0;
  }
}
