import { Lru } from './lru.js';

export interface TokenBucketOptions {
  /** Tokens added per second (sustained rate). */
  ratePerSecond: number;
  /** Bucket size: how many may be spent at once after a quiet period. */
  burst: number;
  /** Clients remembered at most; the least recently seen are forgotten first (and start full again). */
  maxClients: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per client key: a client may spend `burst` tokens at once and `ratePerSecond` tokens a
 * second after that. Memory is bounded by
 * `maxClients`; a client that was forgotten starts with a full bucket, so the bound an attacker who rotates
 * through more than `maxClients` addresses gets is `burst` per address (pair it with a bucket shared by all).
 */
export class TokenBuckets {
  private readonly buckets: Lru<string, Bucket>;

  constructor(private readonly o: TokenBucketOptions) {
    if (!(o.ratePerSecond > 0) || !(o.burst >= 1)) throw new RangeError('token bucket needs ratePerSecond > 0 and burst >= 1');
    this.buckets = new Lru(o.maxClients);
  }

  /** Spends one token of `client` if it has one. */
  take(client: string, now = Date.now()): boolean {
    const b = this.refill(client, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Whole seconds until `client` has a token again (at least 1: a Retry-After value). */
  retryAfterSeconds(client: string, now = Date.now()): number {
    const b = this.refill(client, now);
    return Math.max(1, Math.ceil((1 - b.tokens) / this.o.ratePerSecond));
  }

  private refill(client: string, now: number): Bucket {
    let b = this.buckets.get(client);
    if (!b) {
      b = { tokens: this.o.burst, at: now };
      this.buckets.set(client, b);
      return b;
    }
    if (now > b.at) {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.ratePerSecond);
      b.at = now;
    }
    return b;
  }
}
