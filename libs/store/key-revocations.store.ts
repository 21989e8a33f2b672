import { type RedisClient } from '@app/infra';
import { subscribeChannel } from './channel-subscription.js';
import { RedisKeys } from './keys.js';

/** How long a revocation stays readable for replicas that were cut off when it was announced. */
export const REVOCATION_MEMORY_MS = 3_600_000;

export interface RevocationSubscription {
  close(): Promise<void>;
}

/**
 * API key revocations announced to every api replica: a pub/sub message for the moment it happens, and a sorted
 * set (key id → revocation time) that a replica reads each time its subscription (re)connects, so an announcement
 * made while it was cut off from Redis still reaches it. Postgres stays the authority; this only shortens how long
 * a replica's key cache may still accept a revoked key.
 */
export class KeyRevocations {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'rt',
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** The client name of the subscription connections (CLIENT LIST). */
  get connectionName(): string {
    return `${this.prefix}:key-revocations`;
  }

  /** Records and announces one revoked key id (and forgets revocations older than REVOCATION_MEMORY_MS). */
  async announce(keyId: string, now = Date.now()): Promise<void> {
    const set = this.keys.revokedKeys();
    // One key (and a channel, which is no key): a transaction on one slot, also on a cluster.
    const r = await this.redis
      .multi()
      .zadd(set, now, keyId)
      .zremrangebyscore(set, '-inf', now - REVOCATION_MEMORY_MS)
      .publish(this.keys.keyRevocationChannel(), keyId)
      .exec();
    const failed = r?.find(([err]) => err);
    if (!r || failed) throw failed?.[0] ?? new Error('revocation transaction aborted');
  }

  /** Key ids revoked at or after `sinceMs`. */
  recent(sinceMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.revokedKeys(), sinceMs, '+inf');
  }

  /**
   * Calls `onRevoked` with every announced key id, on a connection of its own that reconnects by itself; after
   * each (re)connect also with the ids of the last REVOCATION_MEMORY_MS (read with the shared connection, so an
   * id may come more than once). `onError` hears failures of that catch-up read, which is retried every second.
   */
  subscribe(onRevoked: (keyId: string) => void, onError: (err: Error) => void = () => undefined): RevocationSubscription {
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    const catchUp = async (): Promise<void> => {
      clearTimeout(retry);
      try {
        const ids = await this.recent(Date.now() - REVOCATION_MEMORY_MS);
        if (closed) return; // a read that was in flight when the subscription closed delivers nothing
        for (const id of ids) onRevoked(id);
      } catch (err) {
        onError(err as Error);
        if (!closed) retry = setTimeout(() => void catchUp(), 1000);
      }
    };
    const sub = subscribeChannel(this.redis, this.keys.keyRevocationChannel(), this.connectionName, onRevoked, () => void catchUp());
    return {
      close() {
        closed = true;
        clearTimeout(retry);
        return sub.close();
      },
    };
  }
}
