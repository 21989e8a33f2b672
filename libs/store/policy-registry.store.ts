import { type Model, type Policy } from '@app/contracts';
import { type RedisClient } from '@app/infra';
import { type ChannelSubscription, subscribeChannel } from './channel-subscription.js';
import { RedisKeys } from './keys.js';

/**
 * The replicas' copy of policy and model configuration (Postgres is the record). Admin writes go to Postgres
 * first, then here, and each write is announced on a pub/sub channel so replicas re-read at once; they also poll
 * (a lost announcement costs one poll interval) and keep routing from their last copy while Redis is away.
 */
export class RegistryStore {
  readonly keys: RedisKeys;
  constructor(
    private readonly redis: RedisClient,
    prefix = 'rt',
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async putPolicy(p: Policy): Promise<void> {
    await this.redis.hset(this.keys.policies(), p.name, JSON.stringify(p));
    await this.announce(`policy:${p.name}`);
  }
  async removePolicy(name: string): Promise<void> {
    await this.redis.hdel(this.keys.policies(), name);
    await this.announce(`policy:${name}`);
  }
  async policies(): Promise<Policy[]> {
    const h = await this.redis.hgetall(this.keys.policies());
    return Object.values(h).map((v) => JSON.parse(v) as Policy);
  }
  async putModel(m: Model): Promise<void> {
    await this.redis.hset(this.keys.models(), m.id, JSON.stringify(m));
    await this.announce(`model:${m.id}`);
  }
  async removeModel(id: string): Promise<void> {
    await this.redis.hdel(this.keys.models(), id);
    await this.announce(`model:${id}`);
  }
  async models(): Promise<Model[]> {
    const h = await this.redis.hgetall(this.keys.models());
    return Object.values(h).map((v) => JSON.parse(v) as Model);
  }

  /** Calls `onChange` (with `policy:<name>` or `model:<id>`) for every announced registry write. */
  subscribe(onChange: (what: string) => void): ChannelSubscription {
    return subscribeChannel(this.redis, this.keys.registryChannel(), this.keys.registryChannel(), onChange);
  }

  /** Best effort: the write is done; replicas that miss the announcement see it at their next poll. */
  private async announce(what: string): Promise<void> {
    await this.redis.publish(this.keys.registryChannel(), what).catch(() => undefined);
  }
}
