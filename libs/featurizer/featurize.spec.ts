import { createHash } from 'node:crypto';
import { CUES, featurize, messagesText, MIN_DIM } from '@app/featurizer';
import { bestTimeMs, HOSTILE_TEXTS, MAX_INPUT_CHARS, PLAIN_TEXT } from './testing/hostile-text.js';

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
    expect(
      messagesText([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ]),
    ).toBe('be brief\nhi');
  });

  it('keeps the vectors of ordinary prompts: the digests recorded before the bounded view and the linear cues', () => {
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
    expect(got).toEqual({
      translate: ['63842777630c70d0', 'ea730bc474d12e14'],
      code: ['5dfb96ed466fe27b', 'e58ea9e66e1739e0'],
      math: ['5281d200d80520ca', '83c50845857be3ab'],
      german: ['c9cca2e95585c5a7', '4f235ef03c375b41'],
      choice: ['ad5dba99663f4af5', 'ff7eb6bf707ede60'],
      poem: ['16251627b9e82b69', '3b57a6b6b66ca86b'],
      capital: ['128c7d7ace378972', 'f1683c30d5f6befd'],
      chinese: ['27f655e9a5a49f2a', 'f2c8e3306c75ca3f'],
      empty: ['6bfba8c2e465a162', '7a7b5aa5cdebb06b'],
      review: ['5b362682e8f963d0', '015bf091cf765985'],
      report: ['7ec6c07e61e68a15', '2871bec47dabc54c'], // 29.6 KB: still read whole
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
