import { LabelCap, OTHER } from './label-cap.js';

describe('LabelCap', () => {
  it('keeps the first `max` combinations, then folds new ones into (other)', () => {
    const cap = new LabelCap(2);
    expect(cap.labels({ key: 'a', model: 'm' })).toEqual({ key: 'a', model: 'm' });
    expect(cap.labels({ key: 'b', model: 'm' })).toEqual({ key: 'b', model: 'm' });
    expect(cap.labels({ key: 'c', model: 'm' })).toEqual({ key: OTHER, model: OTHER });
    // combinations seen before the cap stay themselves
    expect(cap.labels({ key: 'a', model: 'm' })).toEqual({ key: 'a', model: 'm' });
    expect(cap.labels({ key: 'a', model: 'n' })).toEqual({ key: OTHER, model: OTHER });
  });
});
