import { z } from 'zod';
import { finite, id } from './finite.js';

export const MAX_BATCH = 1000;

export const feedbackSchema = z
  .strictObject({
    decisionId: id('decisionId'),
    eventId: id('eventId').optional(),
    thumb: z.enum(['up', 'down']).optional(),
    reward: finite().min(0).max(1).optional(),
  })
  .refine((f) => (f.thumb === undefined) !== (f.reward === undefined), {
    message: 'give exactly one of thumb or reward',
    path: ['thumb'],
  });
export type FeedbackInput = z.infer<typeof feedbackSchema>;

export const pairwiseSchema = z.strictObject({
  decisionId: id('decisionId'),
  eventId: id('eventId').optional(),
  winner: id('winner'),
});
export type PairwiseInput = z.infer<typeof pairwiseSchema>;

export const energySchema = z
  .strictObject({
    eventId: id('eventId').optional(),
    decisionId: id('decisionId').optional(),
    model: id('model').optional(),
    joules: finite().min(0).max(1e9),
    inputTokens: z.int().min(0).max(1e8).optional(),
    outputTokens: z.int().min(0).max(1e8).optional(),
    latencyMs: finite().min(0).max(86_400_000).optional(),
    gpu: z.string().max(128).optional(),
    measuredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((e) => e.decisionId !== undefined || (e.model !== undefined && e.outputTokens !== undefined), {
    message: 'give a decisionId, or a model with outputTokens',
    path: ['decisionId'],
  });
export type EnergyInput = z.infer<typeof energySchema>;

export const feedbackBatchSchema = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) });
export const energyBatchSchema = feedbackBatchSchema;

export type EventStatus = 'accepted' | 'duplicate' | 'late';
export interface EventAck {
  eventId: string;
  status: EventStatus;
}
