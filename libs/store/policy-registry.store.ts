import { type Model, type Policy } from '@app/contracts';
import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';

/**
 * The replicas' copy of policy and model configuration (Postgres is the record). Admin writes go to Postgres
 * first, then here; replicas poll this hash and keep routing from their last copy while Redis is away.
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
  }
  async removePolicy(name: string): Promise<void> {
    await this.redis.hdel(this.keys.policies(), name);
  }
  async policies(): Promise<Policy[]> {
    const h = await this.redis.hgetall(this.keys.policies());
    return Object.values(h).map((v) => JSON.parse(v) as Policy);
  }
  async putModel(m: Model): Promise<void> {
    await this.redis.hset(this.keys.models(), m.id, JSON.stringify(m));
  }
  async removeModel(id: string): Promise<void> {
    await this.redis.hdel(this.keys.models(), id);
  }
  async models(): Promise<Model[]> {
    const h = await this.redis.hgetall(this.keys.models());
    return Object.values(h).map((v) => JSON.parse(v) as Model);
  }
}
