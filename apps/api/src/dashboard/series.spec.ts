// The dashboard's browser module series.js is plain JS (no types in this project): imported by a path in a
// variable, so it is loaded as it is served.
const modulePath = './web/series.js';
const { bucketGrid, perModel, shares, feedbackTotals, feedbackSeries } = await import(modulePath);

const point = (bucket: string, model: string, decisions: number, feedback: number, feedbackLagMs: number | null, meanReward: number | null = null) => ({
  bucket,
  model,
  decisions,
  feedback,
  feedbackLagMs,
  meanReward,
  energyReadings: 0,
  energyJoules: null,
  costUsd: null,
  latencyMs: null,
  fallbacks: 0,
});

const ts = {
  from: '2026-12-02T10:00:30.000Z',
  to: '2026-12-02T10:05:00.000Z',
  bucket: '1m',
  points: [
    point('2026-12-02T10:00:00.000Z', 'small', 3, 2, 1000, 0.5),
    point('2026-12-02T10:00:00.000Z', 'large', 1, 1, 4000, 1),
    point('2026-12-02T10:03:00.000Z', 'small', 2, 0, null),
  ],
};

describe('dashboard series', () => {
  it('lays every bucket of the range on a grid on the clock, the first holding `from`, the last one before `to`', () => {
    const grid: number[] = bucketGrid(ts);
    expect(grid.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual(['10:00:00', '10:01:00', '10:02:00', '10:03:00', '10:04:00']);
  });

  it('gives each model one value per bucket, null where it had no decisions', () => {
    const grid = bucketGrid(ts);
    const reward: Map<string, (number | null)[]> = perModel(ts, grid, (p: { meanReward: number | null }) => p.meanReward);
    expect(Object.fromEntries(reward)).toEqual({ large: [1, null, null, null, null], small: [0.5, null, null, null, null] });
    const s: Map<string, (number | null)[]> = shares(ts, grid);
    expect(Object.fromEntries(s)).toEqual({ large: [25, null, null, 0, null], small: [75, null, null, 100, null] });
  });

  it('weights each mean lag by its feedback count; coverage per bucket', () => {
    expect(feedbackTotals(ts.points)).toEqual({ decisions: 6, feedback: 3, meanLagMs: 2000 });
    expect(feedbackTotals([])).toEqual({ decisions: 0, feedback: 0, meanLagMs: null });
    const f = feedbackSeries(ts, bucketGrid(ts));
    expect(f.coverage).toEqual([75, null, null, 0, null]);
    expect(f.lagMs).toEqual([2000, null, null, null, null]);
  });
});
