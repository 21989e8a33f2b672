import { createHash } from 'node:crypto';
import { type RedisClient } from '@app/infra';
import { luaSource } from './lua-source.js';

/**
 * A Lua script over any number of keys (`name-n.lua`), called by its SHA (EVALSHA, sent as EVAL the first time a
 * node does not know it). Plain EVALSHA/EVAL rather than a defined command: the client reads their key count, so
 * an auto-pipelined call goes to the node of its keys' slot on a cluster.
 */
export class MultiKeyScript<T> {
  private readonly lua: string;
  private readonly sha: string;
  constructor(
    private readonly redis: RedisClient,
    name: string,
  ) {
    this.lua = luaSource(`${name}-n.lua`);
    this.sha = createHash('sha1').update(this.lua).digest('hex');
  }

  /** Runs the script on `keys` (one slot's keys on a cluster) with `args`. */
  async run(keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    try {
      return (await this.redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return (await this.redis.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }
}
