import { z } from 'zod';
import { modelWithBreakerSchema } from '@app/contracts';
import { parseAnswer } from './lenient-answer.js';

describe('parseAnswer', () => {
  const model = {
    id: 'small',
    baseUrl: 'http://vllm:8000/v1',
    pricing: { inputPerMTok: 1, outputPerMTok: 2 },
    enabled: true,
    breaker: { state: 'closed' },
  };

  it("ignores fields a later server adds, at any depth, and keeps the schema's other rules", () => {
    const later = { ...model, region: 'eu', aNewField: { nested: [1] }, pricing: { ...model.pricing, cachedInputPerMTok: 0.5 } };
    // The contract's schema alone refuses the answer.
    expect(modelWithBreakerSchema.safeParse(structuredClone(later)).success).toBe(false);
    const r = parseAnswer(modelWithBreakerSchema, structuredClone(later));
    expect(r.success && r.data).toEqual(model);
    // A field of the wrong type is still an error, unknown fields beside it or not.
    expect(parseAnswer(modelWithBreakerSchema, { ...later, enabled: 'yes' }).success).toBe(false);
    expect(parseAnswer(modelWithBreakerSchema, { ...model, pricing: { inputPerMTok: 'x', extra: 1 } }).success).toBe(false);
    expect(parseAnswer(modelWithBreakerSchema, { breaker: { state: 'closed' }, extra: 1 }).success).toBe(false); // no id
  });

  it('drops unknown fields inside arrays and union branches', () => {
    const a = z.strictObject({ kind: z.literal('a'), v: z.strictObject({ x: z.number() }) });
    const b = z.strictObject({ kind: z.literal('b'), w: z.string() });
    const schema = z.strictObject({ items: z.array(z.union([a, b])) });
    const r = parseAnswer(schema, {
      items: [
        { kind: 'a', v: { x: 1, n: 2 }, more: 1 },
        { kind: 'b', w: 's', zz: 1 },
      ],
      top: 1,
    });
    expect(r.success && r.data).toEqual({
      items: [
        { kind: 'a', v: { x: 1 } },
        { kind: 'b', w: 's' },
      ],
    });
    expect(parseAnswer(schema, { items: [{ kind: 'b', w: 1, zz: 1 }] }).success).toBe(false);
  });
});
