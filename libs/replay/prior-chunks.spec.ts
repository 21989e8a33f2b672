import { priorChunks } from './prior-chunks.js';

describe('priorChunks', () => {
  const records = Array.from({ length: 25 }, (_, i) => ({ input: `prompt ${i} ${'x'.repeat(i)}`, model: 'm', score: 1 }));

  it('keeps the order and cuts at the record limit', () => {
    const chunks = priorChunks(records, 10, 1e9);
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(records);
  });

  it('keeps every body (records, commas, envelope) within the byte limit', () => {
    const maxBytes = 400;
    const chunks = priorChunks(records, 10_000, maxBytes);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(records);
    for (const c of chunks) expect(Buffer.byteLength(JSON.stringify({ records: c, maxWeight: 200, append: true }))).toBeLessThanOrEqual(maxBytes);
  });

  it('counts bytes, not characters, and refuses a record larger than the limit alone', () => {
    expect(() => priorChunks([{ input: 'é'.repeat(300), model: 'm', score: 1 }], 10, 400)).toThrow(/record 0 alone/);
    expect(priorChunks([], 10, 400)).toEqual([]);
  });

  it("with a key, keeps one prompt's records in one chunk (cutting before its first record)", () => {
    const byPrompt = Array.from({ length: 30 }, (_, i) => ({ input: `prompt ${Math.floor(i / 3)}`, model: `m${i % 3}`, score: 1 }));
    const chunks = priorChunks(byPrompt, 10, 1e9, (r) => r.input);
    expect(chunks.flat()).toEqual(byPrompt);
    expect(chunks.map((c) => c.length)).toEqual([9, 9, 9, 3]);
    for (const c of chunks) expect(c[0].model).toBe('m0');
    // Within the byte limit too, and a run longer than a chunk is still cut.
    for (const c of priorChunks(byPrompt, 10, 300, (r) => r.input)) {
      expect(Buffer.byteLength(JSON.stringify({ records: c, maxWeight: 200, append: true }))).toBeLessThanOrEqual(300);
      expect(c[0].model).toBe('m0');
    }
    const one = Array.from({ length: 25 }, (_, i) => ({ input: 'same', model: `m${i}`, score: 1 }));
    expect(priorChunks(one, 10, 1e9, (r) => r.input).map((c) => c.length)).toEqual([10, 10, 5]);
  });
});
