import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { QUEUE_NAME } from '@app/contracts';
import { InfraModule, QUEUE_CONNECTION, queuePrefix } from '@app/infra';
import { type ConnectionOptions } from 'bullmq';
import { IngestModule } from '@app/ingest';
import { PersistenceModule } from '@app/persistence';
import { StoreModule } from '@app/store';
import { KeysController } from './admin/keys.controller.js';
import { ConfigFileService } from './config-file/config-file.service.js';
import { KeysService } from './admin/keys.service.js';
import { KeyUsageService } from './admin/key-usage.service.js';
import { ModelsController } from './admin/models.controller.js';
import { ModelsService } from './admin/models.service.js';
import { PoliciesController } from './admin/policies.controller.js';
import { PoliciesService } from './admin/policies.service.js';
import { FeaturizerUpgrade } from './admin/featurizer-upgrade.service.js';
import { EvaluationService } from './admin/evaluation.service.js';
import { TimeseriesService } from './admin/timeseries.service.js';
import { AuthGuard } from './auth/auth.guard.js';
import { type ApiEnv } from './config.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { ProblemFilter } from './errors/problem.filter.js';
import { HealthController } from './health/health.controller.js';
import { IngestController } from './ingest/ingest.controller.js';
import { IngestService } from './ingest/ingest.service.js';
import { WorkerProtocol } from './ingest/worker-protocol.service.js';
import { DecisionLookup } from './routing/decision-lookup.service.js';
import { ContinueService } from './routing/continue.service.js';
import { DocsController } from './openapi/docs.controller.js';
import { OwedHotCopies } from './routing/owed-hot-copies.service.js';
import { DecisionFlusher } from './routing/decision-flusher.service.js';
import { EmbeddingFeatures } from './routing/embedding-features.service.js';
import { PolicyCache } from './routing/policy-cache.service.js';
import { StateRepair } from './routing/state-repair.service.js';
import { SequentialStateService } from './routing/sequential-state.service.js';
import { RouteController } from './routing/route.controller.js';
import { RoutingService } from './routing/routing.service.js';
import { BreakerService } from './breakers/breakers.service.js';
import { MetricsController } from './observability/metrics.controller.js';
import { MetricsService } from './observability/metrics.service.js';
import { ProxyController } from './proxy/proxy.controller.js';
import { ProxyService } from './proxy/proxy.service.js';
import { UsageRecorder } from './proxy/usage-recorder.service.js';
import { KeyLimitsGuard } from './limits/key-limits.guard.js';
import { KeyLimitsService } from './limits/key-limits.service.js';
import { ReadingsController } from './telemetry/readings.controller.js';
import { ReadingsService } from './telemetry/readings.service.js';

@Module({})
export class ApiModule {
  static forRoot(env: ApiEnv): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfraModule.forRoot(env),
        PersistenceModule.forRoot(env),
        StoreModule.forRoot(env, { redisOffline: true }),
        IngestModule,
        BullModule.forRootAsync({
          inject: [QUEUE_CONNECTION],
          useFactory: (connection: ConnectionOptions) => ({ connection, prefix: queuePrefix(env) }),
        }),
        BullModule.registerQueue({ name: QUEUE_NAME }),
      ],
      controllers: [
        RouteController,
        ProxyController,
        MetricsController,
        IngestController,
        KeysController,
        ModelsController,
        PoliciesController,
        HealthController,
        DocsController,
        DashboardController,
        ReadingsController,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        // After the AuthGuard: it needs the authenticated caller.
        { provide: APP_GUARD, useClass: KeyLimitsGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        PolicyCache,
        StateRepair,
        SequentialStateService,
        BreakerService,
        MetricsService,
        ProxyService,
        UsageRecorder,
        KeyLimitsService,
        DecisionFlusher,
        OwedHotCopies,
        EmbeddingFeatures,
        RoutingService,
        IngestService,
        WorkerProtocol,
        DecisionLookup,
        ContinueService,
        PoliciesService,
        EvaluationService,
        FeaturizerUpgrade,
        TimeseriesService,
        ModelsService,
        KeysService,
        KeyUsageService,
        ReadingsService,
        ConfigFileService,
      ],
    };
  }
}
