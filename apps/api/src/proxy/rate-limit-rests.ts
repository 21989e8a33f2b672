/** How long a model rests after a 429 whose upstream named no Retry-After. */
export const DEFAULT_REST_MS = 1000;
/** Entries kept before the expired ones are dropped (each lives at most MAX_RETRY_AFTER_MS). */
const PRUNE_AT = 10_000;

/**
 * Models whose upstream answered a tenant's call with 429, each resting for that tenant on this replica until the
 * wait the upstream asked for (Retry-After, or DEFAULT_REST_MS): none of the tenant's calls goes to it meanwhile,
 * so a rate-limited upstream is not asked again and again, and the caller is told how long to wait when no other
 * model answers. Per tenant, because a 429 may be the request's own (one prompt over the model's tokens per
 * minute): one tenant's calls cannot rest a model for the others, who find an upstream limit that is really shared
 * with their own first call.
 */
export class RateLimitRests {
  private readonly until = new Map<string, number>();

  rest(model: string, tenant: string, waitMs: number | undefined, now = Date.now()): void {
    if (this.until.size >= PRUNE_AT) for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    const key = keyOf(model, tenant);
    const until = now + (waitMs ?? DEFAULT_REST_MS);
    if (until > (this.until.get(key) ?? 0)) this.until.set(key, until);
  }

  /** How long `model` still rests for `tenant` (0: it may be called). */
  remainingMs(model: string, tenant: string, now = Date.now()): number {
    const key = keyOf(model, tenant);
    const until = this.until.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.until.delete(key);
    return 0;
  }
}

const keyOf = (model: string, tenant: string) => `${tenant}\u0000${model}`;
