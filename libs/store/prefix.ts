import { isCluster, type RedisClient } from '@app/infra';
import { type Redis } from 'ioredis';

/**
 * Deletes every key under `prefix:` (a test's or benchmark's namespace) with SCAN + UNLINK, never KEYS. On a
 * cluster SCAN sees one node, so every master is scanned; its keys are unlinked one by one (one UNLINK over keys
 * of different slots is refused, even on one node).
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (!isCluster(redis)) return deleteOnNode(redis, prefix, false);
  let n = 0;
  for (const node of redis.nodes('master')) n += await deleteOnNode(node, prefix, true);
  return n;
}

async function deleteOnNode(node: Redis, prefix: string, perKey: boolean): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    if (!perKey) n += await node.unlink(...keys);
    else {
      const p = node.pipeline();
      for (const k of keys) p.unlink(k);
      for (const [err, v] of (await p.exec()) ?? []) if (!err) n += Number(v);
    }
  } while (cursor !== '0');
  return n;
}
