import calculateSlot from 'cluster-key-slot';
import { isCluster, type RedisClient } from '@app/infra';

/** Keys per command at most: bounds how long one multi-key command or script holds Redis. */
export const MAX_KEYS_PER_CALL = 1000;

/**
 * `keys` split into groups that one multi-key command (MGET, a script over KEYS) may take: on one Redis node,
 * consecutive runs of at most `max` keys; on a cluster, the keys of each hash slot (a command's keys must share
 * one), again at most `max` a group. Each group holds indices into `keys`, in order.
 */
export function slotGroups(redis: RedisClient, keys: readonly string[], max = MAX_KEYS_PER_CALL): number[][] {
  const groups: number[][] = [];
  if (!isCluster(redis)) {
    for (let i = 0; i < keys.length; i += max) groups.push(Array.from({ length: Math.min(max, keys.length - i) }, (_, k) => i + k));
    return groups;
  }
  const open = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = calculateSlot(key);
    let group = open.get(slot);
    if (!group || group.length >= max) {
      group = [];
      open.set(slot, group);
      groups.push(group);
    }
    group.push(i);
  });
  return groups;
}

/**
 * Runs `call` once per group of `keys` (slotGroups), all sent together, and answers one value per key in the
 * order of `keys`: `call` gets a group's keys and answers one value per key.
 */
export async function perSlotGroup<T>(redis: RedisClient, keys: readonly string[], call: (keys: string[]) => Promise<T[]>): Promise<T[]> {
  const groups = slotGroups(redis, keys);
  const answers = await Promise.all(groups.map((g) => call(g.map((i) => keys[i]))));
  const out = new Array<T>(keys.length);
  groups.forEach((g, k) => g.forEach((i, j) => (out[i] = answers[k][j])));
  return out;
}
