import { Module } from '@nestjs/common';
import { EventsRepository, DecisionsRepository, PoliciesRepository } from '@app/persistence';
import { ModelEnergyStore, PolicyStateStore } from '@app/store';
import { ModelEnergyEstimator } from './model-energy-estimator.js';
import { Rebuilder } from './rebuilder.js';

/**
 * What both apps need of the learning pipeline: rebuilding a policy's state from the log, and the model energy
 * estimates. The worker's learning pass (EventApplier, DefaultRewardSweeper) is provided by the worker alone.
 * Needs PersistenceModule and StoreModule (global) in the importing app.
 */
@Module({
  providers: [
    {
      provide: Rebuilder,
      inject: [PoliciesRepository, DecisionsRepository, EventsRepository, PolicyStateStore],
      useFactory: (p: PoliciesRepository, d: DecisionsRepository, e: EventsRepository, s: PolicyStateStore) => new Rebuilder(p, d, e, s),
    },
    {
      provide: ModelEnergyEstimator,
      inject: [EventsRepository, ModelEnergyStore],
      useFactory: (e: EventsRepository, m: ModelEnergyStore) => new ModelEnergyEstimator(e, m),
    },
  ],
  exports: [Rebuilder, ModelEnergyEstimator],
})
export class IngestModule {}
