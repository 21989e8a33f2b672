import { randomBytes } from 'node:crypto';
import { type KeyLimitsStore } from '@app/store';

/** How long a lease on a call in flight lasts without renewal: a replica that stops (crash, partition) frees its slots after this. */
export const LEASE_MS = 60_000;
/** How often a replica renews the leases of its calls still in flight (three renewals per lease). */
export const RENEW_EVERY_MS = 20_000;

/**
 * The leases this replica holds on its callers' calls in flight (a key's `concurrentRequests` limit): each has a
 * token unique across replicas, is renewed while its call runs (a call may outlast one lease: long streams, slow
 * upstreams; a renewal also takes again a lease Redis lost), and is released when the call ends. Renewals and
 * releases are best effort: one that fails leaves the lease to expire on Redis's clock, so a lost release holds a
 * slot for at most LEASE_MS.
 */
export class InFlightLeases {
  private readonly held = new Map<string, Set<string>>();
  private readonly replica = randomBytes(6).toString('hex');
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: KeyLimitsStore,
    private readonly failed: (op: 'renew' | 'release', err: unknown) => void,
    private readonly renewEveryMs = RENEW_EVERY_MS,
    readonly leaseMs = LEASE_MS,
  ) {}

  /** A new lease token, held locally from now on (so it is renewed and released even if its admission's answer is late). */
  take(keyId: string): string {
    const token = `${this.replica}:${(++this.seq).toString(36)}`;
    let tokens = this.held.get(keyId);
    if (!tokens) this.held.set(keyId, (tokens = new Set()));
    tokens.add(token);
    this.timer ??= setInterval(() => void this.renewAll(), this.renewEveryMs).unref();
    return token;
  }

  /** Forgets a lease that Redis never took (its admission was refused). */
  forget(keyId: string, token: string): void {
    const tokens = this.held.get(keyId);
    if (!tokens?.delete(token) || tokens.size > 0) return;
    this.held.delete(keyId);
    if (this.held.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Ends a call's lease: forgotten here, removed from Redis. */
  release(keyId: string, token: string): void {
    this.forget(keyId, token);
    this.store.release(keyId, [token]).catch((err: unknown) => this.failed('release', err));
  }

  /** How many leases this replica holds now. */
  get size(): number {
    let n = 0;
    for (const tokens of this.held.values()) n += tokens.size;
    return n;
  }

  /** Renews every lease held here (one call per key). */
  renewAll(): Promise<void> {
    const calls = [...this.held].map(([keyId, tokens]) =>
      this.store.renew(keyId, [...tokens], this.leaseMs).catch((err: unknown) => this.failed('renew', err)),
    );
    return Promise.all(calls).then(() => undefined);
  }

  /** Stops renewing, and releases every lease held (shutdown). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const all = [...this.held];
    this.held.clear();
    await Promise.all(all.map(([keyId, tokens]) => this.store.release(keyId, [...tokens]).catch((err: unknown) => this.failed('release', err))));
  }
}
