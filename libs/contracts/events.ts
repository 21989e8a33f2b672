import { z } from 'zod';
import { finite, id, text } from './finite.js';

export const MAX_BATCH = 1000;

/**
 * Physical bounds of one energy reading. One LLM request does not draw more than 10 MJ (2.8 kWh: eight 700 W
 * GPUs for half an hour), nor process more than 10 M tokens, nor spend more than 1 kJ per token it processed
 * (decoding one token on eight 700 W GPUs at 20 tokens/s is 280 J). Readings beyond them are input errors.
 */
export const MAX_READING_JOULES = 1e7;
export const MAX_READING_TOKENS = 1e7;
export const MAX_JOULES_PER_TOKEN = 1000;

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
    joules: finite().min(0).max(MAX_READING_JOULES),
    inputTokens: z.int().min(0).max(MAX_READING_TOKENS).optional(),
    outputTokens: z.int().min(0).max(MAX_READING_TOKENS).optional(),
    latencyMs: finite().min(0).max(86_400_000).optional(),
    gpu: text('gpu', 128).optional(),
    measuredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((e) => e.decisionId !== undefined || (e.model !== undefined && (e.outputTokens ?? 0) > 0), {
    message: 'give a decisionId, or a model with outputTokens (at least 1)',
    path: ['decisionId'],
  })
  .refine((e) => tokensOf(e) === 0 || e.joules / tokensOf(e) <= MAX_JOULES_PER_TOKEN, {
    message: `at most ${MAX_JOULES_PER_TOKEN} J per processed token (input + output)`,
    path: ['joules'],
  });
const tokensOf = (e: { inputTokens?: number; outputTokens?: number }) => (e.inputTokens ?? 0) + (e.outputTokens ?? 0);
export type EnergyInput = z.infer<typeof energySchema>;

export const feedbackBatchSchema = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) });
export const energyBatchSchema = feedbackBatchSchema;

export type EventStatus = 'accepted' | 'duplicate' | 'late';
export interface EventAck {
  eventId: string;
  status: EventStatus;
}
