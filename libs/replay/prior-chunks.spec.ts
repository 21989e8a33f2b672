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
});
