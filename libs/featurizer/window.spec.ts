import { joinedView, textView } from './window.js';

/** Seeded xorshift32 in [0, 1). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** The contract, read off the whole joined text. */
function reference(whole: string, h: number, t: number): string {
  if (whole.length <= h + 1 + t) return whole;
  let head = whole.slice(0, h);
  let tail = whole.slice(whole.length - t);
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  if (/^[\udc00-\udfff]/.test(tail)) tail = tail.slice(1);
  return `${head}\n${tail}`;
}

describe('text views', () => {
  it('returns a short text itself, and the head, a line break and the tail of a long one', () => {
    const t = 'abcdefghij';
    expect(textView(t, 3, 4)).toBe('abc\nghij');
    expect(textView(t, 5, 4)).toBe(t); // 5 + 1 + 4 characters: nothing to cut
    expect(textView(t, 4, 4)).toBe('abcd\nghij');
    expect(textView('', 0, 0)).toBe('');
  });

  it('never cuts a surrogate pair', () => {
    const t = `ab😀cd${'x'.repeat(10)}wx😀yz`; // 😀 is two UTF-16 code units
    const v = textView(t, 3, 3);
    expect(v).toBe('ab\nyz');
    expect(v.isWellFormed()).toBe(true);
  });

  it('equals the view of the join, is idempotent, and nests (random pieces, seeded)', () => {
    const next = rng(7);
    const alphabet = ['a', 'b', '\n', ' ', '\ud83d', '\ude00'];
    for (let trial = 0; trial < 3000; trial++) {
      const pieces = Array.from({ length: Math.floor(next() * 6) }, () =>
        Array.from({ length: Math.floor(next() * 9) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
      );
      const h = Math.floor(next() * 8);
      const t = Math.floor(next() * 8);
      const whole = pieces.join('\n');
      const v = joinedView(pieces, h, t);
      expect(v).toBe(reference(whole, h, t));
      expect(textView(whole, h, t)).toBe(v);
      expect(textView(v, h, t)).toBe(v);
      const outer = joinedView(pieces, h + 2 + Math.floor(next() * 5), t + 2 + Math.floor(next() * 5));
      expect(textView(outer, h, t)).toBe(v);
    }
  });

  it('reads only the ends: a view of 1000 pieces of 1 MB is 32 KB and is cut without joining them', () => {
    const mb = 'x'.repeat(1_000_000);
    const pieces = Array.from({ length: 1000 }, () => mb); // 1 GB joined: longer than any string V8 can build
    const t0 = performance.now();
    const v = joinedView(pieces, 16_384, 16_384);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(v).toBe(`${'x'.repeat(16_384)}\n${'x'.repeat(16_384)}`);
  });
});
