import { createHash, timingSafeEqual } from 'node:crypto';
import { effectiveLimits, type KeyLimits, type Principal } from '@app/contracts';
import { DomainError } from '@app/errors';
import { type KeysRepository } from '@app/persistence';
import { Lru } from './lru.js';
import { TokenBuckets } from './token-buckets.js';

/** How long a lookup answer (key known or unknown) is trusted before Postgres is asked again. */
export const CACHE_MS = 30_000;
/** After a failed lookup, how long a known key is served before Postgres is asked again. */
export const RETRY_MS = 5_000;
/** Known keys, unknown tokens and revoked key ids remembered per replica; clients whose lookup budget is tracked. */
export const KNOWN_KEYS = 10_000;
export const UNKNOWN_TOKENS = 10_000;
export const REVOKED_IDS = 10_000;
export const TRACKED_CLIENTS = 10_000;

export interface KeyResolverOptions {
  adminSecret: string;
  /** Lookups of keys not known to this replica, per client: sustained rate and burst. */
  lookupsPerSecond: number;
  lookupBurst: number;
  /** The same for all clients together (a ceiling on what rotating addresses can make Postgres do). */
  lookupsPerSecondTotal: number;
  /** Limits of route keys where they set none of their own (KEY_DEFAULT_LIMITS). */
  defaultLimits?: KeyLimits | null;
}

/** The owner of the bootstrap admin key (ADMIN_API_KEY); only admin keys may be named so. */
export const BOOTSTRAP_OWNER = 'admin';
const BOOTSTRAP: Principal = { keyId: 'bootstrap', owner: BOOTSTRAP_OWNER, scope: 'admin', policies: null };
export const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
/** Whether `secret` hashes to `expected` (constant time). */
export const secretMatches = (secret: string, expected: Buffer): boolean => timingSafeEqual(sha256(secret), expected);

/**
 * Bearer secret → principal. Keys are looked up by hash in Postgres and kept 30 s, and kept past that while
 * Postgres is away (asked again every 5 s), so routing keeps authenticating through an outage.
 *
 * Hostile traffic cannot undo that: known keys and unknown tokens live in two bounded LRUs, so a flood of random
 * tokens only ever evicts other unknown tokens; and a token this replica does not know costs a Postgres query only
 * within a token bucket per client (and one for all clients): beyond it the request answers 429 with
 * Retry-After, without a query. A key already known is re-checked without spending from the bucket.
 *
 * Revoked key ids (`revoke`, fed by the revocation broadcast) are refused at once, also when a lookup that
 * started before the revocation answers after it.
 */
export class KeyResolver {
  private readonly known = new Lru<string, { at: number; p: Principal }>(KNOWN_KEYS);
  private readonly unknown = new Lru<string, number>(UNKNOWN_TOKENS);
  private readonly revoked = new Lru<string, true>(REVOKED_IDS);
  private readonly inFlight = new Map<string, Promise<Principal | null>>();
  private readonly perClient: TokenBuckets;
  private readonly allClients: TokenBuckets;
  private readonly adminHash: Buffer;
  private readonly defaultLimits: KeyLimits | null;

  constructor(
    private readonly keys: Pick<KeysRepository, 'findBySecret'>,
    o: KeyResolverOptions,
  ) {
    this.adminHash = sha256(o.adminSecret);
    this.defaultLimits = o.defaultLimits ?? null;
    this.perClient = new TokenBuckets({ ratePerSecond: o.lookupsPerSecond, burst: o.lookupBurst, maxClients: TRACKED_CLIENTS });
    this.allClients = new TokenBuckets({
      ratePerSecond: o.lookupsPerSecondTotal,
      burst: Math.max(o.lookupBurst, Math.ceil(o.lookupsPerSecondTotal)),
      maxClients: 1,
    });
  }

  /**
   * The principal of `secret`, or null for an unknown or revoked key. Throws RATE_LIMITED when `client` (or all
   * clients) spent their lookup budget, UNAVAILABLE when Postgres cannot answer for a key not known before.
   */
  async resolve(secret: string, client: string, now = Date.now()): Promise<Principal | null> {
    const h = sha256(secret);
    if (timingSafeEqual(h, this.adminHash)) return BOOTSTRAP;
    const k = h.toString('hex');
    const hit = this.known.get(k);
    if (hit && this.revoked.has(hit.p.keyId)) {
      this.known.delete(k);
      return null;
    }
    if (hit && now - hit.at < CACHE_MS) return hit.p;
    const seen = hit ? undefined : this.unknown.get(k);
    if (seen !== undefined && now - seen < CACHE_MS) return null;
    if (!hit && !this.inFlight.has(k)) this.admit(client, now);
    try {
      return this.remember(k, await this.lookup(secret, k), now);
    } catch {
      if (hit && !this.revoked.has(hit.p.keyId)) {
        // Postgres away: keep serving a key seen before, and ask again only after RETRY_MS (not on every request).
        this.known.set(k, { at: now - CACHE_MS + RETRY_MS, p: hit.p });
        return hit.p;
      }
      // Known to be unknown (a secret cannot start to exist while Postgres, which creates keys, is away).
      if (seen !== undefined) return null;
      throw new DomainError('UNAVAILABLE', 'cannot check the key right now', [], 5);
    }
  }

  /** Refuses `keyId` from now on and forgets it from the cache. */
  revoke(keyId: string): void {
    this.revoked.set(keyId, true);
    this.known.deleteWhere((v) => v.p.keyId === keyId);
  }

  private admit(client: string, now: number): void {
    const mine = this.perClient.take(client, now);
    if (mine && this.allClients.take('*', now)) return;
    const retryAfter = mine ? this.allClients.retryAfterSeconds('*', now) : this.perClient.retryAfterSeconds(client, now);
    throw new DomainError('RATE_LIMITED', 'too many requests with keys this server does not know; retry later', [], retryAfter);
  }

  /** One Postgres query per secret at a time: concurrent requests with the same secret share it. */
  private lookup(secret: string, k: string): Promise<Principal | null> {
    let q = this.inFlight.get(k);
    if (!q) {
      q = this.keys
        .findBySecret(secret)
        .then((p) => (p && this.defaultLimits ? { ...p, limits: effectiveLimits(p.scope, p.limits, this.defaultLimits) } : p))
        .finally(() => this.inFlight.delete(k));
      this.inFlight.set(k, q);
    }
    return q;
  }

  private remember(k: string, found: Principal | null, now: number): Principal | null {
    const p = found && !this.revoked.has(found.keyId) ? found : null;
    if (p) {
      this.known.set(k, { at: now, p });
      this.unknown.delete(k);
    } else {
      this.known.delete(k);
      this.unknown.set(k, now);
    }
    return p;
  }
}
