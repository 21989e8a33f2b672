import { Injectable } from '@nestjs/common';
import { keyModelUsageSchema, type KeyUsageQuery, type keyUsageResponseSchema, same, type Same } from '@app/contracts';
import { DomainError } from '@app/errors';
import { EventsRepository, type KeyModelUsage, KeysRepository } from '@app/persistence';
import { type z } from 'zod';

// Compile-time: a model's line of the response is the repository's sum.
same<Same<z.output<typeof keyModelUsageSchema>, KeyModelUsage>>(true);

/** What a key spent, per model, from the usage events of its proxied and direct calls (the durable log). */
@Injectable()
export class KeyUsageService {
  constructor(
    private readonly keys: KeysRepository,
    private readonly events: EventsRepository,
  ) {}

  async usage(id: string, q: KeyUsageQuery): Promise<z.output<typeof keyUsageResponseSchema>> {
    const key = await this.keys.get(id);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${id} does not exist`);
    const models = await this.events.usageByKey(id, q.from, q.to);
    const sum = (f: (m: (typeof models)[number]) => number | null) =>
      models.reduce<number | null>((s, m) => (f(m) === null ? s : (s ?? 0) + (f(m) as number)), null);
    return {
      key: { id: key.id, name: key.name },
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      models,
      total: {
        requests: sum((m) => m.requests) ?? 0,
        failed: sum((m) => m.failed) ?? 0,
        inputTokens: sum((m) => m.inputTokens) ?? 0,
        outputTokens: sum((m) => m.outputTokens) ?? 0,
        costUsd: sum((m) => m.costUsd),
        energyJoules: sum((m) => m.energyJoules),
      },
    };
  }
}
