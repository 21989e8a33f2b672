import { fitPrior, MIN_MEASURED_RECORDS, type PriorObservation } from './prior-fit.js';
import { toPolicyPrior } from './policy-prior.js';

const d = 2;
const x = Float64Array.from([1, 0]);
/** n records of arm 0 with score 0.5; the first `costed` of them say the call cost 0.002. */
const records = (n: number, costed: number): PriorObservation[] =>
  Array.from({ length: n }, (_, i) => ({ arm: 0, x, r: 0.5, ...(i < costed ? { measured: { cost: 0.002 } } : {}) }));

describe('fitPrior: heads the records measured', () => {
  it('fits a head most records measured, with its mean as the arm’s expectation, and carries both into the policy', () => {
    const [fit] = fitPrior(1, d, records(40, 30), 100);
    expect(fit!.heads?.cost?.[0]).toBeCloseTo((0.002 * 30 * (40 / 30)) / 41, 12);
    expect(fit!.means!.cost).toBeCloseTo(0.002, 15);
    expect(fit!.heads?.energy).toBeUndefined();
    const prior = toPolicyPrior(['a'], [fit], 40, 't');
    expect(prior.arms.a.means).toEqual(fit!.means);
    expect(prior.arms.a.heads?.cost).toHaveLength(d);
  });

  it('leaves a head measured by few records (under half, or under the minimum) to the registry', () => {
    expect(fitPrior(1, d, records(40, 19), 100)[0]!.heads).toBeUndefined();
    expect(fitPrior(1, d, records(MIN_MEASURED_RECORDS - 1, MIN_MEASURED_RECORDS - 1), 100)[0]!.heads).toBeUndefined();
    expect(fitPrior(1, d, records(MIN_MEASURED_RECORDS, MIN_MEASURED_RECORDS), 100)[0]!.heads?.cost).toBeDefined();
  });
});
