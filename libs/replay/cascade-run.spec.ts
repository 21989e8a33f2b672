import { createRng, DEFAULT_ESCALATION_PARAMS } from '@app/bandits';
import { answerSignals, featurize } from '@app/featurizer';
import { cascadeData } from './cascade-data.js';
import { runCascade, type CascadeSpec } from './cascade-run.js';
import { buildDataset, type RawRecord, type SideInfo } from './dataset.js';
import { handCheckEscalates } from './hand-check.js';

const side: SideInfo = {
  prices: new Map([
    ['small', { input: 0.1, output: 0.1 }],
    ['large', { input: 10, output: 10 }],
  ]),
  joulesPerToken: new Map(),
};

/**
 * Two models; `large` is right 90 % of the time. `small` is right 90 % of the time on arithmetic, but on the
 * arithmetic prompts it fails it writes a calculator slip (`<<6*7+i=41+i>>`); on the translation prompts it fails 80 %
 * of the time whatever it writes: one failure is visible in the answer, the other only in the kind of prompt.
 */
function synthetic(n: number, seed: number): RawRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const translate = rng.next() < 0.3;
    const smallRight = rng.next() < (translate ? 0.2 : 0.9);
    const prompt = translate ? `Translate this sentence into German, keeping the tone: "the weather is nice" #${i}` : `How much is 6 times 7 plus ${i}?`;
    const value = smallRight ? 42 + i : 41 + i;
    const small = translate ? 'Das Wetter ist schön.' : `6*7 plus ${i} is <<6*7+${i}=${value}>>${value}.\n#### ${value}`;
    return {
      id: `c:${i}`,
      task: translate ? 'translate' : 'arithmetic',
      prompt,
      prompt_tokens_est: 20,
      outcomes: {
        small: { score: smallRight ? 1 : 0, tokens: 20, response: small },
        large: { score: rng.next() < 0.9 ? 1 : 0, tokens: 20, response: 'A careful answer.' },
      },
    } as RawRecord;
  });
}

const spec = (escalation: CascadeSpec['escalation']): CascadeSpec => ({
  algorithm: 'lin-ts',
  objective: { quality: 1, cost: 0.3, energy: 0, latency: 0 },
  params: {},
  delay: 0,
  first: 'cheapest',
  escalation,
  maxSteps: 2,
  audit: 0.05,
  escalationParams: DEFAULT_ESCALATION_PARAMS,
});

describe('cascade replay', () => {
  const raw = synthetic(1000, 4);
  const ds = buildDataset('cascade-synthetic', raw, side);
  const data = cascadeData(raw, ds);
  const features = ds.records.map((r) => featurize(r.prompt, 32));

  it('reads the stored answers into signals; the hand check flags exactly the calculator slips', () => {
    const slips = ds.records.map(
      (r, i) => handCheckEscalates(data.signals[i][ds.models.indexOf('small')]) === (r.task === 'arithmetic' && r.quality[ds.models.indexOf('small')] === 0),
    );
    expect(slips.every(Boolean)).toBe(true);
    expect(data.meanCost[ds.models.indexOf('large')]).toBeGreaterThan(data.meanCost[ds.models.indexOf('small')]);
    expect(answerSignals({ prompt: 'p', answer: '<<1+1=3>>3\n#### 3' }).named.annotationWrong).toBe(1);
  });

  it('learns from a cold start to escalate visible slips and the prompt kind the small model fails on, and only those', () => {
    const small = ds.models.indexOf('small');
    const runs = [0, 1].map((seed) => runCascade(ds, features, data, spec('learned'), seed));
    for (const m of runs) {
      // Escalating exactly the failing kinds (slips 7 % of prompts, translations 30 %) is ≈ 37 % of prompts (observed 35 %).
      expect(m.escalationRate).toBeGreaterThan(0.25);
      expect(m.escalationRate).toBeLessThan(0.5);
      expect(m.callShare[small]).toBe(1);
    }
    const learned = runs.reduce((s, m) => s + m.quality, 0) / runs.length;
    const check = runCascade(ds, features, data, spec('check'), 0);
    // The hand check sees only the slips (observed 0.765); the learner also finds the translations (observed 0.954;
    // escalating exactly the failures ≈ 0.963, never escalating ≈ 0.69, always the large model 0.9).
    expect(learned).toBeGreaterThan(check.quality + 0.1);
    expect(learned).toBeGreaterThan(0.9);
  });
});
