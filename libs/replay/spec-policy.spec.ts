import { createRng } from '@app/bandits';
import { buildDataset, type RawRecord, type SideInfo } from './dataset.js';
import { type ReplaySpec, specPolicy } from './run.js';
import { warmStartFromSplit } from './warm-start.js';

const side: SideInfo = {
  prices: new Map([
    ['small', { input: 0.1, output: 0.1 }],
    ['large', { input: 10, output: 10 }],
  ]),
  joulesPerToken: new Map(),
};

/** `large` is right 90 % of the time, `small` 50 %: unpaced, a greedy policy sends everything to `large`. */
function records(n: number): RawRecord[] {
  const rng = createRng(7);
  return Array.from({ length: n }, (_, i) => ({
    id: `s:${i}`,
    task: 'qa',
    prompt: `Question number ${i % 20} about the weather`,
    prompt_tokens_est: 20,
    outcomes: { small: { score: rng.next() < 0.5 ? 1 : 0, tokens: 20 }, large: { score: rng.next() < 0.9 ? 1 : 0, tokens: 20 } },
  }));
}

describe('the policy a replay spec runs', () => {
  const raw = records(400);
  const ds = buildDataset('spec-policy', raw, side);
  const warm = warmStartFromSplit(0.5, raw, ds, 32, 100);
  // Between small's cost per request (4e-6 USD) and large's (4e-4): the limit binds.
  const spec: ReplaySpec = {
    algorithm: 'linucb',
    objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
    params: {},
    delay: 0,
    prior: warm.prior,
    budget: { costUsdPerRequest: 1e-4 },
  };

  it("a warm start's budget price starts where its prompts' greedy choices spend the limit", () => {
    const start = specPolicy(warm.dataset, { ...spec, budgetStartContexts: warm.contexts }, 32).compiled().policy.budgetSince?.startPrices;
    expect(start?.costUsdPerRequest).toBeGreaterThan(0);
  });

  it('without those prompts the price starts from 0', () => {
    expect(specPolicy(warm.dataset, spec, 32).compiled().policy.budgetSince?.startPrices).toBeUndefined();
  });
});
