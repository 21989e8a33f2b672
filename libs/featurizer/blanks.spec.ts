import { countBlanks } from './blanks.js';

describe('fill-in blanks', () => {
  it('counts underscores standing as a word and empty brackets not after a word', () => {
    expect(countBlanks('because the _ is too big')).toBe(1);
    expect(countBlanks('意味着发送端可以____。')).toBe(1);
    expect(countBlanks('约在（）前进入')).toBe(1);
    expect(countBlanks('the answer is ( ) and ( )')).toBe(2);
    expect(countBlanks('_')).toBe(1);
  });

  it('does not count identifiers, calls or filled brackets', () => {
    expect(countBlanks('def find_volume(a, b): return f()')).toBe(0);
    expect(countBlanks('__init__ and _private and x_')).toBe(0);
    expect(countBlanks('(a) and (note)')).toBe(0);
    expect(countBlanks('')).toBe(0);
  });
});
