import { countNotation } from './notation.js';

describe('mathematical notation', () => {
  it('counts operators between operands, TeX commands and closing TeX dollars', () => {
    expect(countNotation('3x + 5 = 20')).toBe(2);
    expect(countNotation('x^2 - 1')).toBe(2);
    expect(countNotation('1/2 of 10-3')).toBe(2);
    expect(countNotation('$\\frac{1}{2}$')).toBe(2); // \frac and the closing $
    expect(countNotation('what is $8-4 \\div 2-1$?')).toBe(4); // - \div - and the closing $ (÷ written as \div)
    expect(countNotation('a ≤ b, ∑ x, 3 × 4')).toBe(3);
    expect(countNotation('f(x) = (x + 1)')).toBe(2);
  });

  it('does not count hyphens, slashes between words, money, doubled operators or list bullets', () => {
    expect(countNotation('a well-known and/or self-evident fact')).toBe(0);
    expect(countNotation('it costs $20 and $5.')).toBe(0);
    expect(countNotation('if a == b or c => d')).toBe(0);
    expect(countNotation('items:\n- one\n- two\n* three')).toBe(0);
    expect(countNotation('**bold** text')).toBe(0);
    expect(countNotation('')).toBe(0);
  });
});
