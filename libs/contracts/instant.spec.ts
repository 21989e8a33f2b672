import { instant } from './instant.js';

describe('instant', () => {
  const messages = (v: string) =>
    instant('until')
      .safeParse(v)
      .error?.issues.map((i) => i.message) ?? [];

  it('takes ISO instants with an offset between 1970 and 9999', () => {
    for (const v of ['1970-01-01T00:00:00Z', '2026-12-07T10:00:00+02:00', '9999-12-31T23:59:59.999Z']) expect(messages(v)).toEqual([]);
  });

  it('names the range for an instant outside it, and says only that a non-instant is not one', () => {
    for (const v of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '1970-01-01T00:30:00+01:00'])
      expect(messages(v)).toEqual(['until must be between 1970 and 9999']);
    for (const v of ['x', '2026-12-07', '2026-12-07T10:00:00']) expect(messages(v)).toEqual(['Invalid ISO datetime']);
  });
});
