import { type EventsRepository } from '@app/persistence';
import { type ModelEnergyStore } from '@app/store';

/** How many of a model's newest readings its estimate rests on. */
export const MODEL_ENERGY_WINDOW = 1000;

/**
 * Each model's measured energy per output token: the median over its newest MODEL_ENERGY_WINDOW model-level
 * readings in the Postgres log, published to Redis for the replicas. A function of the stored readings only, so
 * recomputing it any number of times (a retried job, a flushed Redis, a removed reading) gives the same value.
 */
export class ModelEnergyEstimator {
  constructor(
    private readonly events: EventsRepository,
    private readonly store: ModelEnergyStore,
  ) {}

  /** Recomputes the estimates of `models` (every model when null) and publishes them. */
  async refresh(models: readonly string[] | null): Promise<void> {
    const estimates = await this.events.modelEnergyMedians(models, MODEL_ENERGY_WINDOW);
    await this.store.put(models ?? [], estimates);
  }
}
