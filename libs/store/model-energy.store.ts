import { type RedisClient } from '@app/infra';
import { RedisKeys } from './keys.js';

/** A model's energy per output token as measured by its model-level readings. */
export interface ModelEnergyEstimate {
  joulesPerOutputToken: number;
  readings: number;
}

// Not a valid model id ('#' is outside the id alphabet), so it cannot collide with one.
const COMPUTED = '#computed';

/**
 * The replicas' copy of each model's measured energy estimate (computed from the Postgres log by
 * ModelEnergyEstimator; Redis holds no state of its own here, so a flush only means "compute it again").
 */
export class ModelEnergyStore {
  readonly keys: RedisKeys;
  constructor(
    private readonly redis: RedisClient,
    prefix = 'rt',
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** Writes the estimates of `models` (a model without readings loses its estimate). */
  async put(models: readonly string[], estimates: ReadonlyMap<string, ModelEnergyEstimate>): Promise<void> {
    const m = this.redis.multi();
    const gone = models.filter((id) => !estimates.has(id));
    if (gone.length > 0) m.hdel(this.keys.modelEnergy(), ...gone);
    for (const [id, e] of estimates) m.hset(this.keys.modelEnergy(), id, JSON.stringify(e));
    m.hset(this.keys.modelEnergy(), COMPUTED, '1');
    await m.exec();
  }

  /** Every estimate, or null when none was ever computed (fresh or flushed Redis). */
  async read(): Promise<Map<string, ModelEnergyEstimate> | null> {
    const h = await this.redis.hgetall(this.keys.modelEnergy());
    if (h[COMPUTED] === undefined) return null;
    const out = new Map<string, ModelEnergyEstimate>();
    for (const [id, v] of Object.entries(h)) if (id !== COMPUTED) out.set(id, JSON.parse(v) as ModelEnergyEstimate);
    return out;
  }
}
