import { MAX_NESTING, nestedDeeperThan, nestingErrors } from './nesting.js';

/** `[[…]]` `depth` levels deep, built without recursion. */
const deep = (depth: number, leaf: unknown = []) => {
  let v: unknown = leaf;
  for (let i = 1; i < depth; i++) v = [v];
  return v;
};

describe('nesting limit', () => {
  it('counts array and object levels exactly at the boundary', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan([], 1)).toBe(false);
    expect(nestedDeeperThan([[]], 1)).toBe(true);
    expect(nestedDeeperThan(deep(64), 64)).toBe(false);
    expect(nestedDeeperThan(deep(65), 64)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [{ b: {} }] }, 3)).toBe(true);
  });

  it('checks a million levels without overflowing the stack', () => {
    expect(nestedDeeperThan(deep(1_000_000), MAX_NESTING)).toBe(true);
  });

  it('names each passthrough parameter and message field that is too deep', () => {
    const errors = nestingErrors({ foo: deep(100), temperature: 0.2, response_format: { type: 'json_schema', schema: deep(20, {}) } }, [
      { role: 'user', content: 'fine' },
      { role: 'user', content: [deep(70)], tool_calls: deep(64) },
    ]);
    expect(errors.map((e) => e.path)).toEqual(['foo', 'messages.1.content']);
    expect(errors[0].message).toBe('nested more than 64 levels deep');
  });
});
