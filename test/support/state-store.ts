import { PolicyStateStore } from '@app/store';
import { Redis } from 'ioredis';
import { freshEnvironment, REDIS_URL } from './harness.js';

/** What the Lua state-script tests share: a fresh environment, 8 Redis connections, a store on the first. */
export interface StateStoreFixture {
  env: Awaited<ReturnType<typeof freshEnvironment>>;
  conns: Redis[];
  redis: Redis;
  store: PolicyStateStore;
  close(): Promise<void>;
}

export async function openStateStore(name: string, markerTtlMs?: number): Promise<StateStoreFixture> {
  const env = await freshEnvironment(name);
  const conns = Array.from({ length: 8 }, () => new Redis(REDIS_URL));
  return {
    env,
    conns,
    redis: conns[0],
    store: new PolicyStateStore(conns[0], env.prefix, markerTtlMs),
    async close() {
      await Promise.all(conns.map((c) => c.quit()));
      await env.drop();
    },
  };
}
