import { type DecisionRecord } from '@app/contracts';
import { decodeHead, decodeHotCopy, encodeHotCopy } from './hot-copy-codec.js';

const rec = (extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id: 'dec_1',
  policy: 'p',
  epoch: 2,
  policyVersion: 3,
  arm: 'm1',
  armIndex: 1,
  propensity: 0.25,
  x: [0, 1, -0.5, 1e-7, -2.5e21, 0.1 + 0.2, Number.MIN_VALUE],
  owner: 'o',
  mode: 'single',
  estimates: [],
  createdAt: 1_700_000_000_000,
  ...extra,
});
const headOf = ({ x: _x, ...head }: DecisionRecord) => head;

describe('hot copy codec', () => {
  it('writes one JSON object with the same fields, the context last', () => {
    const r = rec({ arms: ['m1', 'm2'], fallbackFrom: 'm3', featureSource: 'builtin' });
    const text = encodeHotCopy(r);
    expect(JSON.parse(text)).toEqual(r);
    expect(Object.keys(JSON.parse(text) as object).at(-1)).toBe('x');
    expect(decodeHotCopy(text)).toEqual(r);
    expect(decodeHotCopy(text).x).toEqual(r.x); // bit for bit (toEqual compares numbers with Object.is)
  });

  it('reads the head without the context, whatever the numbers', () => {
    for (const x of [[], [0], [-0, 1.5e-300, -1e300, 123456789.12345679], Array.from({ length: 64 }, (_, i) => Math.sin(i) / 7)]) {
      const r = rec({ x });
      expect(decodeHead(encodeHotCopy(r))).toEqual(headOf(r));
    }
  });

  it('reads copies written with the fields in another order (before the context came last) whole', () => {
    const r = rec({ arms: ['m1', 'm2'] });
    const old = JSON.stringify(r); // x in the middle
    expect(old.endsWith(']}')).toBe(true);
    expect(decodeHead(old)).toEqual(headOf(r));
    expect(decodeHotCopy(old)).toEqual(r);
  });

  it('is not fooled by an "x" in a string or in a nested value at the end', () => {
    // A quote inside a JSON string is always escaped, so the field's text cannot appear in one; a caller's text
    // that imitates it stays in the head.
    const tricky = rec({ fallbackFrom: ',"x":[1]}', owner: '"x":[2]}' });
    expect(decodeHead(encodeHotCopy(tricky))).toEqual(headOf(tricky));
    expect(decodeHead(JSON.stringify(tricky))).toEqual(headOf(tricky));
    // A nested object ending with an "x" list of numbers, as the last field of a copy: parsed whole.
    const nested = `{"id":"d","policy":"p","y":{"a":1,"x":[1,2]}}`;
    expect(decodeHead(nested)).toEqual({ id: 'd', policy: 'p', y: { a: 1, x: [1, 2] } });
    const inList = `{"id":"d","y":[{"q":1,"x":[3]}]}`;
    expect(decodeHead(inList)).toEqual({ id: 'd', y: [{ q: 1, x: [3] }] });
    // The last field "x" but not a flat list: parsed whole.
    expect(decodeHead(`{"id":"d","x":["a"]}`)).toEqual({ id: 'd' });
    expect(decodeHead(`{"id":"d","x":[[1],[2]]}`)).toEqual({ id: 'd' });
  });

  it('takes the head only when the first "x" field is the record\'s own and its last', () => {
    // The first occurrence nested, the record's own x last: parsed whole, nothing lost.
    expect(decodeHead(`{"id":"d","y":{"a":1,"x":[1]},"x":[5,6]}`)).toEqual({ id: 'd', y: { a: 1, x: [1] } });
    // A field after x (a list, an object, a scalar): parsed whole.
    expect(decodeHead(`{"id":"d","x":[1],"z":[2]}`)).toEqual({ id: 'd', z: [2] });
    expect(decodeHead(`{"id":"d","x":[1],"z":{"q":"]"}}`)).toEqual({ id: 'd', z: { q: ']' } });
    expect(decodeHead(`{"id":"d","x":[1],"z":"a]"}`)).toEqual({ id: 'd', z: 'a]' });
    // A copy damaged inside its list still gives its head; damaged before it, it is refused as before.
    expect(decodeHead(`{"id":"d","x":[1,,oops]}`)).toEqual({ id: 'd' });
    expect(() => decodeHead(`{"id":"d",,"x":[1]}`)).toThrow(SyntaxError);
  });
});
