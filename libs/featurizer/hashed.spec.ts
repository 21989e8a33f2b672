import { createRng } from '@app/bandits';
import { fnv1a } from './hash.js';
import { hashNgrams, TRIGRAM_SEED } from './hashed.js';
import { pairKey, tokenize } from './tokens.js';

/** The definition, written plainly: unsigned hashes, floating-point remainder, fnv1a per trigram. */
function reference(text: string, out: Float64Array, start: number, end: number, weight: number): void {
  const buckets = end - start;
  const add = (h: number, w: number) => (out[start + (h % buckets)] += h >= 0x80000000 ? -w : w);
  let previous = -1;
  tokenize(text, (_s, _e, h) => {
    add(h, 1);
    if (previous >= 0) add(pairKey(previous, h), 0.7);
    previous = h;
  });
  for (let i = 2; i < text.length; i++) add(fnv1a(text, i - 2, i + 1, TRIGRAM_SEED), 0.5);
  let norm = 0;
  for (let i = start; i < end; i++) norm += out[i] * out[i];
  if (norm === 0) return;
  for (let i = start; i < end; i++) out[i] *= weight / Math.sqrt(norm);
}

describe('hashed n-grams', () => {
  it('equal the plain definition bit for bit (every block size, scripts, surrogates, short texts)', () => {
    const rng = createRng(7);
    const alphabet = ['a', 'b', 'Z', ' ', '\n', '1', '_', 'é', 'ж', '中', '文', 'か', '😀', '\uD800', '\uDC00', '{', '=', '+'];
    const texts = ['', 'a', 'ab', 'abc', 'Solve 3x + 7 = 22 for x', '计算 3+4', 'Привет, мир'];
    for (let t = 0; t < 300; t++) texts.push(Array.from({ length: rng.int(200) }, () => alphabet[rng.int(alphabet.length)]).join(''));
    for (const text of texts)
      for (const [start, end] of [
        [25, 64],
        [0, 1],
        [25, 32],
        [25, 512],
        [3, 65000],
      ]) {
        const fast = new Float64Array(end);
        const plain = new Float64Array(end);
        hashNgrams(text, fast, start, end, 0.1);
        reference(text, plain, start, end, 0.1);
        expect({ text, start, end, equal: fast.every((v, i) => Object.is(v, plain[i])) }).toEqual({ text, start, end, equal: true });
      }
  });
});
