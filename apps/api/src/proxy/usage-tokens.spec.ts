import { usageTokens } from './usage-tokens.js';

describe('usageTokens', () => {
  it('keeps real counts and replaces what an upstream may send that no usage event could carry', () => {
    expect(usageTokens(17, () => 3)).toBe(17);
    expect(usageTokens(0, () => 3)).toBe(0);
    expect(usageTokens(undefined, () => 3)).toBe(3);
    expect(usageTokens(-1, () => 3)).toBe(3);
    expect(usageTokens(2.5, () => 3)).toBe(3);
    expect(usageTokens('12', () => 3)).toBe(3);
    expect(usageTokens(Number.NaN, () => 3)).toBe(3);
    expect(usageTokens(3e9, () => 3)).toBe(2 ** 31 - 1);
  });
});
