import { requestIdOf } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it("keeps a caller's id of the safe shape", () => {
    for (const id of ['req-1', 'a'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e', 'trace:abc/def@host=1+2_3.4']) expect(requestIdOf(id)).toBe(id);
  });

  it('replaces a missing, repeated, over-long or unsafe id with a fresh UUID', () => {
    for (const bad of [undefined, '', 'a'.repeat(129), 'a b', 'x\r\ny: 1', 'quote"', 'semi;colon', 'ünï', 'nul\u0000', ['a', 'b']])
      expect(requestIdOf(bad)).toMatch(UUID);
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});
