import { Injectable } from '@nestjs/common';
import {
  callerEventId,
  deadLetterSchema,
  type deadLetterListSchema,
  type energyReadingListSchema,
  type energyReadingRemovedSchema,
  eventOwner,
  same,
  type Same,
} from '@app/contracts';
import { DomainError } from '@app/errors';
import { ModelEnergyEstimator } from '@app/ingest';
import { DeadLettersRepository, EventsRepository, type ReadingsCursor, type StoredDeadLetter } from '@app/persistence';
import { type z } from 'zod';
import { PolicyCache } from '../routing/policy-cache.service.js';

// Compile-time: a dead letter of the response is the repository's.
same<Same<z.output<typeof deadLetterSchema>, StoredDeadLetter>>(true);

/** What operators see and undo of model-level energy readings, and the events set aside as dead letters. */
@Injectable()
export class ReadingsService {
  constructor(
    private readonly events: EventsRepository,
    private readonly estimator: ModelEnergyEstimator,
    private readonly letters: DeadLettersRepository,
    private readonly cache: PolicyCache,
  ) {}

  async list(model: string | undefined, limit: number, before: ReadingsCursor | undefined): Promise<z.output<typeof energyReadingListSchema>> {
    const rows = await this.events.listModelReadings(model, limit, before);
    return {
      readings: rows.map((r) => ({
        id: r.id,
        eventId: callerEventId(r.id),
        owner: eventOwner(r.id),
        model: r.model,
        joules: r.joules,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        joulesPerOutputToken: r.joules / r.outputTokens,
        gpu: (r.payload as { gpu?: string } | null)?.gpu ?? null,
        receivedAt: r.receivedAt.toISOString(),
      })),
    };
  }

  /** Takes a reading out of its model's estimate; every replica routes with the new estimate on its next poll. */
  async remove(id: string): Promise<z.output<typeof energyReadingRemovedSchema>> {
    const model = await this.events.removeModelReading(id);
    if (model === null) throw new DomainError('READING_NOT_FOUND', `no model-level reading ${id}`, [{ path: 'id', message: 'unknown reading' }]);
    await this.estimator.refresh([model]);
    await this.cache.refresh().catch(() => undefined);
    return { id, model, status: 'removed' };
  }

  async deadLetters(policy: string | undefined, limit: number): Promise<z.output<typeof deadLetterListSchema>> {
    return { deadLetters: await this.letters.list(policy, limit) };
  }
}
