import { toPolicyPrior } from './policy-prior.js';

describe('toPolicyPrior', () => {
  it('names each fitted arm, with θ⁰ as plain numbers, its weight and outcomes; arms without a fit are left out', () => {
    const prior = toPolicyPrior(
      ['a', 'b', 'c'],
      [{ theta: Float64Array.from([0.25, -1e-17]), weight: 3, records: 3 }, null, { theta: Float64Array.from([0.5, 0.5]), weight: 0, records: 0 }],
      7,
      '2024-05-01T00:00:00.000Z',
    );
    expect(prior).toEqual({
      installedAt: '2024-05-01T00:00:00.000Z',
      records: 7,
      arms: { a: { theta: [0.25, -1e-17], weight: 3, records: 3 }, c: { theta: [0.5, 0.5], weight: 0, records: 0 } },
    });
    expect(Array.isArray(prior.arms.a.theta)).toBe(true);
  });

  it('keeps an arm named like an Object.prototype property as its own entry', () => {
    const prior = toPolicyPrior(['constructor'], [{ theta: Float64Array.from([1]), weight: 1, records: 1 }], 1, 't');
    expect(Object.hasOwn(prior.arms, 'constructor')).toBe(true);
  });
});
