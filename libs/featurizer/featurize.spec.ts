import { CUES, featurize, messagesText, MIN_DIM } from '@app/featurizer';

const cue = (x: Float64Array, name: string) => x[9 + CUES.findIndex((c) => c.name === name)];

describe('featurize', () => {
  it('is deterministic, unit-norm and of the requested dimension', () => {
    const a = featurize('Translate "good morning" into French, please.', 64);
    const b = featurize('Translate "good morning" into French, please.', 64);
    expect(a).toEqual(b);
    expect(a.length).toBe(64);
    expect(Math.hypot(...a)).toBeCloseTo(1, 12);
    expect(featurize('x', 128).length).toBe(128);
  });

  it('fires the task cues', () => {
    expect(cue(featurize('def add(a, b):\n    return a + b'), 'code')).toBeGreaterThan(0);
    expect(cue(featurize('Solve 3x + 5 = 20 for x'), 'math')).toBeGreaterThan(0);
    expect(cue(featurize('Translate this into German: hello'), 'translation')).toBeGreaterThan(0);
    expect(cue(featurize('Which is right?\nA. red\nB. blue\nC. green'), 'multiple-choice')).toBeGreaterThan(0);
    expect(cue(featurize('Write a short poem about rain'), 'creative')).toBeGreaterThan(0);
    expect(cue(featurize('Write a short poem about rain'), 'code')).toBe(0);
  });

  it('separates different prompts and handles empty and non-Latin text', () => {
    const a = featurize('What is the capital of France?');
    const b = featurize('写一首关于秋天的诗');
    let cos = 0;
    for (let i = 0; i < a.length; i++) cos += a[i] * b[i];
    expect(cos).toBeLessThan(0.9);
    expect(b[7]).toBeGreaterThan(0);
    const e = featurize('');
    expect(e.every(Number.isFinite)).toBe(true);
    expect(() => featurize('x', MIN_DIM - 1)).toThrow(RangeError);
  });

  it('joins chat messages', () => {
    expect(messagesText([{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe('be brief\nhi');
  });
});
