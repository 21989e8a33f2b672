import { createHash } from 'node:crypto';
import { featurize, FEATURIZER_VERSION, FIXED_FEATURES, HASHED_WEIGHT, messagesText, MIN_DIM, slot, type SlotName } from '@app/featurizer';
import { bestTimeMs, HOSTILE_TEXTS, MAX_INPUT_CHARS, PLAIN_TEXT } from './testing/hostile-text.js';

const cue = (x: Float64Array, name: SlotName) => x[slot(name)];

describe('featurize', () => {
  it('is deterministic, unit-norm and of the requested dimension, for every dimension from MIN_DIM up', () => {
    const a = featurize('Translate "good morning" into French, please.', 64);
    const b = featurize('Translate "good morning" into French, please.', 64);
    expect(a).toEqual(b);
    expect(a.length).toBe(64);
    expect(Math.hypot(...a)).toBeCloseTo(1, 12);
    for (const dim of [MIN_DIM, 33, 100, 512]) {
      const x = featurize('def add(a, b):\n    return a + b', dim);
      expect(x.length).toBe(dim);
      expect(Math.hypot(...x)).toBeCloseTo(1, 12);
      expect(x.every(Number.isFinite)).toBe(true);
    }
    const out = new Float64Array(64).fill(7);
    expect(featurize('reuse the buffer', 64, out)).toBe(out);
    expect(out).toEqual(featurize('reuse the buffer', 64));
  });

  it('fires the slots of the kinds of prompt (slots.spec.ts checks each one)', () => {
    expect(cue(featurize('def add(a, b):\n    return a + b'), 'python')).toBeGreaterThan(0);
    expect(cue(featurize('Solve 3x + 5 = 20 for x'), 'notation')).toBeGreaterThan(0);
    expect(cue(featurize('Translate this into German: hello'), 'translation')).toBeGreaterThan(0);
    expect(cue(featurize('Which is right?\nA. red\nB. blue\nC. green'), 'choices')).toBeGreaterThan(0);
    expect(cue(featurize('Write a short poem about rain'), 'creative')).toBeGreaterThan(0);
    expect(cue(featurize('Write a short poem about rain'), 'python')).toBe(0);
  });

  it('weighs the hashed block at HASHED_WEIGHT against the bias', () => {
    const x = featurize('Tell me about the history of the old town hall.', 64);
    expect(Math.hypot(...x.subarray(FIXED_FEATURES)) / x[0]).toBeCloseTo(HASHED_WEIGHT, 12);
    expect(
      featurize('', 64)
        .subarray(FIXED_FEATURES)
        .every((v) => v === 0),
    ).toBe(true);
  });

  it('separates different prompts and handles empty and non-Latin text', () => {
    const a = featurize('What is the capital of France?');
    const b = featurize('写一首关于秋天的诗');
    let cos = 0;
    for (let i = 0; i < a.length; i++) cos += a[i] * b[i];
    expect(cos).toBeLessThan(0.9);
    expect(cue(b, 'cjk')).toBeGreaterThan(0);
    const e = featurize('');
    expect(e.every(Number.isFinite)).toBe(true);
    expect(() => featurize('x', MIN_DIM - 1)).toThrow(RangeError);
  });

  it('joins chat messages', () => {
    expect(
      messagesText([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ]),
    ).toBe('be brief\nhi');
  });

  it(`keeps the vectors of ordinary prompts: the digests of FEATURIZER_VERSION ${FEATURIZER_VERSION} (a change to any is a new version)`, () => {
    const paragraph = (i: number) =>
      `Paragraph ${i}: the committee reviewed the budget (items a-d) and asked why costs rose 12% year on year; see table ${i}.\n`;
    const prompts: Record<string, string> = {
      translate: 'Translate "good morning" into French, please.',
      code: 'def add(a, b):\n    return a + b',
      math: 'Solve 3x + 5 = 20 for x',
      german: 'Translate this into German: hello',
      choice: 'Which is right?\nA. red\nB. blue\nC. green',
      poem: 'Write a short poem about rain',
      capital: 'What is the capital of France?',
      chinese: '写一首关于秋天的诗',
      empty: '',
      review: `Review this function and explain why it is slow:\n\`\`\`ts\n${'for (let i = 0; i < n; i++) { total += items[i].price * items[i].qty; }\n'.repeat(40)}\`\`\`\nBe brief.`,
      report: `${Array.from({ length: 250 }, (_, i) => paragraph(i)).join('')}\nSummarize the report above in three bullet points. Which option is cheapest?\n(a) keep\n(b) cut\n`,
    };
    const digest = (v: Float64Array) =>
      createHash('sha256')
        .update(Buffer.from(v.buffer, v.byteOffset, v.byteLength))
        .digest('hex')
        .slice(0, 16);
    const got = Object.fromEntries(Object.entries(prompts).map(([k, p]) => [k, [digest(featurize(p, 64)), digest(featurize(p, 128))]]));
    expect(FEATURIZER_VERSION).toBe(2);
    expect(got).toEqual({
      translate: ['0b28dbab703c15e1', '5e01442b7b6baff8'],
      code: ['919de8eb4eed4742', 'dba4dd2c655d5e19'],
      math: ['00dfe7ed9ce4e672', 'c365f566456febb4'],
      german: ['47fd4d9c504e8781', '62dcbee85ad48a3c'],
      choice: ['7a1e089a0f157b45', 'e24c19653931f4a0'],
      poem: ['270faf54f52f615d', 'b60b42bc4d4b08df'],
      capital: ['17c1e1b8e6aad362', 'e5500bb1f3890ecf'],
      chinese: ['bfce3cb6780bac21', 'af51a3822eddaa0d'],
      empty: ['0f6735e341e57b28', '91170c9662528fd3'],
      review: ['3a2312ca034261d0', '334508744230f31c'],
      report: ['f75ece73731382a8', '87f1185eb02c19a9'], // 29.6 KB: still read whole
    });
    expect(prompts.report.length).toBeLessThanOrEqual(32_768);
  });

  it('reads only the first 16,384 and the last 16,384 characters of a long text', () => {
    const filler = 'lorem ipsum '.repeat(2000); // 24 KB: longer than the head and than the tail
    const middle = (fill: string) => `System: answer in English.\n${filler}${fill.repeat(50_000)}${filler}\nWhy is the sky blue?`;
    const a = featurize(middle('lorem ipsum '));
    expect(featurize(middle('x = {1; 2}\n'))).toEqual(a); // a different middle is not read
    const whole = middle('lorem ipsum ');
    expect(a).toEqual(featurize(`${whole.slice(0, 16_384)}\n${whole.slice(-16_384)}`));
    expect(cue(a, 'reasoning')).toBeGreaterThan(0); // the question at the end still counts
  });

  it('costs at most what 32 KB cost: hostile 1 MB texts featurize within 200 ms and 20x plain 1 MB text', () => {
    for (let i = 0; i < 3; i++) featurize(PLAIN_TEXT); // compile the hot loop before timing
    const plain = bestTimeMs((t) => featurize(t), PLAIN_TEXT);
    const slow: string[] = [];
    for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
      const ms = bestTimeMs((t) => featurize(t), text);
      if (ms > 200 || ms > 20 * Math.max(plain, 1)) slow.push(`${name}: ${ms.toFixed(1)} ms (plain text: ${plain.toFixed(1)} ms)`);
    }
    expect(slow).toEqual([]);
  });

  it('joins 1000 messages of 1 MB without building a 1 GB string, and featurizes them as their whole join', () => {
    const mb = HOSTILE_TEXTS['newlines'];
    const messages = Array.from({ length: 1000 }, (_, i) => ({ role: 'user', content: i % 2 ? mb : [{ type: 'text', text: mb }] }));
    const t0 = performance.now();
    const text = messagesText(messages);
    const x = featurize(text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(text.length).toBe(MAX_INPUT_CHARS);
    expect(x.every(Number.isFinite)).toBe(true);
    // Over the limit the text is cut, but the featurizer sees what it would see of the whole join.
    const three = [
      { role: 'system', content: 'a'.repeat(600_000) },
      { role: 'user', content: 'b'.repeat(600_000) },
      { role: 'user', content: 'why?' },
    ];
    expect(featurize(messagesText(three))).toEqual(featurize(three.map((m) => m.content).join('\n')));
    // Up to the limit it is the whole join (the proxy's token estimate reads its length).
    const full = [
      { role: 'user', content: 'c'.repeat(MAX_INPUT_CHARS - 10) },
      { role: 'user', content: 'd'.repeat(9) },
    ];
    expect(messagesText(full)).toBe(full.map((m) => m.content).join('\n'));
    expect(
      messagesText([
        { role: 'system', content: '' },
        { role: 'user', content: null },
        { role: 'user', content: 'hi' },
        { role: 'user', content: '' },
      ]),
    ).toBe('hi\n');
  });
});
