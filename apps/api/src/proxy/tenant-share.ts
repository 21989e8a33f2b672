/**
 * Calls in flight per tenant and upstream origin on this replica, each tenant held to a share of the origin's
 * connection pool: one tenant's slow calls (long streams, hanging generations) cannot take every connection while
 * the other tenants' requests wait for one, time out, and count against the model's breaker.
 */
export class TenantShare {
  private readonly held = new Map<string, number>();
  /** Calls in flight per origin, every tenant's. */
  private readonly perOrigin = new Map<string, number>();
  /** The most calls one tenant may have in flight to one origin. */
  readonly limit: number;

  constructor(
    private readonly connections: number,
    share: number,
  ) {
    this.limit = Math.max(1, Math.floor(connections * share));
  }

  /** More calls in flight to `origin` than it has connections: some of them wait in the pool. */
  crowded(origin: string): boolean {
    return (this.perOrigin.get(origin) ?? 0) > this.connections;
  }

  /** A slot for a call of `tenant` to `origin`, to be released once (more releases do nothing); null: its share is in use. */
  take(origin: string, tenant: string): (() => void) | null {
    const key = `${origin} ${tenant}`;
    const n = this.held.get(key) ?? 0;
    if (n >= this.limit) return null;
    this.held.set(key, n + 1);
    this.perOrigin.set(origin, (this.perOrigin.get(origin) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.held, key);
      decrement(this.perOrigin, origin);
    };
  }

  /** Calls in flight (for tests and metrics): of one tenant to one origin. */
  inFlight(origin: string, tenant: string): number {
    return this.held.get(`${origin} ${tenant}`) ?? 0;
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
}

/** The origin a base URL's calls go to (undici keeps one pool per origin); the text itself if it does not parse. */
export function originOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return baseUrl;
  }
}
