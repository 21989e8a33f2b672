import { embeddingsInputTokens, estimateTokens, generatedBytes, reportedCount, usageTokens } from './usage-tokens.js';

describe('usageTokens', () => {
  it('keeps real counts and replaces what an upstream may send that no usage event could carry', () => {
    expect(usageTokens(17, () => 3)).toBe(17);
    // A zero where there was text is not a count (an upstream that reports zeros would make every call free).
    expect(usageTokens(0, () => 3)).toBe(3);
    expect(usageTokens(0, () => 0)).toBe(0);
    expect(usageTokens(undefined, () => 3)).toBe(3);
    expect(usageTokens(-1, () => 3)).toBe(3);
    expect(usageTokens(2.5, () => 3)).toBe(3);
    expect(usageTokens('12', () => 3)).toBe(3);
    expect(usageTokens(Number.NaN, () => 3)).toBe(3);
    expect(usageTokens(3e9, () => 3)).toBe(2 ** 31 - 1);
  });

  it('takes the first count that counts something: a total where the prompt count is 0 or missing', () => {
    expect(reportedCount(0, 12)).toBe(12);
    expect(reportedCount(undefined, 12)).toBe(12);
    expect(reportedCount(5, 12)).toBe(5);
    expect(reportedCount(-1, 2.5, '7', null)).toBeUndefined();
    expect(usageTokens(reportedCount(0, 0), () => 4)).toBe(4);
  });

  it('bounds the fallback estimate as it bounds a reported count', () => {
    expect(usageTokens(undefined, () => 2.5e299)).toBe(2 ** 31 - 1);
    expect(usageTokens(undefined, () => Number.NaN)).toBe(0);
    expect(usageTokens(undefined, () => -4)).toBe(0);
    expect(usageTokens(undefined, () => 2.2)).toBe(3);
  });
});

describe('generatedBytes', () => {
  it('counts content, refusals, reasoning and tool and function call arguments, in messages or deltas', () => {
    const message = {
      content: 'Hello',
      refusal: 'no',
      reasoning_content: 'hmm',
      reasoning: 'r',
      tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }, { function: { arguments: 'xy' } }],
      function_call: { name: 'g', arguments: '[]' },
    };
    const n = 'Hello'.length + 2 + 3 + 1 + 7 + 2 + 2;
    expect(generatedBytes([{ message }, { message: { content: 'abc' } }], 'message')).toBe(n + 3);
    expect(generatedBytes([{ delta: message }], 'delta')).toBe(n);
    expect(generatedBytes([{ message }], 'delta')).toBe(0);
  });

  it('counts UTF-8 bytes: text in Chinese is charged about three quarters of a token a character, not a quarter', () => {
    const chinese = '你好世界'.repeat(100); // 400 characters, 1,200 bytes
    const bytes = generatedBytes([{ message: { content: chinese } }], 'message');
    expect(bytes).toBe(1200);
    expect(estimateTokens(bytes)).toBe(300);
    expect(estimateTokens(generatedBytes([{ delta: { content: 'a'.repeat(400) } }], 'delta'))).toBe(100); // English: 4 a token
    expect(generatedBytes([{ delta: { content: 'Hé 👋' } }], 'delta')).toBe(1 + 2 + 1 + 4);
  });

  it("counts only strings: an upstream's objects, numbers and nulls where text belongs count nothing", () => {
    const hostile = [
      { delta: { content: { length: 1e300 } } },
      { delta: { content: ['x'], tool_calls: { length: 5 } } },
      { delta: { tool_calls: [null, 'x', { function: { arguments: { length: -1 } } }] } },
      null,
      'choice',
      { delta: null },
    ];
    expect(generatedBytes(hostile, 'delta')).toBe(0);
    for (const v of [null, undefined, 'x', 5, { length: 3 }]) expect(generatedBytes(v, 'delta')).toBe(0);
  });
});

describe('embeddingsInputTokens', () => {
  it('counts texts at four UTF-8 bytes a token and token arrays by their length', () => {
    expect(embeddingsInputTokens('a'.repeat(40))).toBe(10);
    expect(embeddingsInputTokens(['a'.repeat(8), '你好世界'])).toBe(2 + 3);
    expect(embeddingsInputTokens([0, 0, 0, 12345])).toBe(4); // not the digits
    expect(embeddingsInputTokens([Array(1000).fill(0), [1, 2]])).toBe(1002);
    expect(embeddingsInputTokens(undefined)).toBe(0);
  });
});
