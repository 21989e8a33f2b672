import { createRng, DEFAULT_TI_UCB, detectConvergence, fitTrendLine } from '@app/bandits';
import { type LearnedRow, TrendRuntime } from './sequential-runtime.js';

const K = 3;
const T0 = 1.75e12;
const w = DEFAULT_TI_UCB.window;

/**
 * Feedback rows of K arms, rewards rising with time (arm a rises faster the larger a, so the detector fires at
 * different points), each delivered up to `lateRows` rows after its turn. Decision times are 100 ms apart, each
 * shared by `perTau` rows in a row (several feedback events on one decision share its τ).
 */
function rows(n: number, lateRows: number, seed: number, perTau = 1): LearnedRow[] {
  const rng = createRng(seed);
  const made = Array.from({ length: n }, (_, i): LearnedRow & { due: number } => {
    const arm = i % K;
    const p = Math.min(0.95, 0.05 + ((arm + 1) * i) / (1.5 * n));
    return {
      id: `ev${i}`,
      kind: 'feedback',
      reward: rng.next() < p ? 1 : 0,
      x: new Float64Array(0),
      arm,
      second: null,
      createdAt: T0 + Math.floor(i / perTau) * 100,
      due: i + Math.floor(rng.next() * lateRows),
    };
  });
  return made.sort((a, b) => a.due - b.due);
}

/** The specification on the whole log: each arm's observations sorted by τ, the detector and the line over all of them. */
function reference(all: readonly LearnedRow[], nowMs: number) {
  return Array.from({ length: K }, (_, a) => {
    const mine = all.filter((r) => r.arm === a).sort((x, y) => x.createdAt - y.createdAt);
    const taus = mine.map((r) => r.createdAt / 1000 - 1.7e9);
    const rs = mine.map((r) => r.reward);
    const at = detectConvergence(taus, rs, DEFAULT_TI_UCB);
    const convergedAt = at === null ? null : at - w;
    let pred: number;
    if (convergedAt !== null) pred = rs.slice(convergedAt).reduce((s, r) => s + r, 0) / (rs.length - convergedAt);
    else {
      const { mt, mr, slope } = fitTrendLine(taus, rs, Math.max(0, rs.length - w), rs.length);
      pred = slope === null ? mr : Math.min(1, Math.max(0, mr + Math.max(0, slope) * (nowMs / 1000 - 1.7e9 - mt)));
    }
    return { pulls: rs.length, convergedAt, pred };
  });
}

function feed(rt: TrendRuntime, all: readonly LearnedRow[], batch: number) {
  for (let i = 0; i < all.length; i += batch) rt.add(all.slice(i, i + batch));
}

/** Prediction part of each arm's index (the bonus is the same for equal pull counts). */
function predictions(rt: TrendRuntime, nowMs: number): number[] {
  const pulls = rt.pulls();
  const n = pulls.reduce((s, p) => s + p, 0) + 1;
  return rt.indices([0, 1, 2], pulls, nowMs).map((v, a) => v - DEFAULT_TI_UCB.c * Math.sqrt(Math.log(n) / Math.max(pulls[a], 1)));
}

describe('TrendRuntime (TI-UCB state of a replica)', () => {
  const n = 30_000;
  const nowMs = T0 + n * 100;

  it('equals the specification on the whole sorted log when rows arrive late, but among an arm’s newest kept', () => {
    // Late by up to 900 rows (300 of their arm's) with 500–1,000 kept per arm (a fold keeps half of 1,000), so each
    // lands among the kept ones; equal τs (three rows per decision time) keep their order of arrival, as the
    // specification's stable sort of the arrival sequence does.
    const all = rows(n, 900, 1, 3);
    const rt = new TrendRuntime(K, DEFAULT_TI_UCB, 1000);
    feed(rt, all, 97);
    const ref = reference(all, nowMs);
    expect(rt.pulls()).toEqual(ref.map((r) => r.pulls));
    expect(rt.converged()).toEqual(ref.map((r) => r.convergedAt));
    expect(ref.some((r) => r.convergedAt !== null && r.convergedAt > 2 * w)).toBe(true);
    const got = predictions(rt, nowMs);
    ref.forEach((r, a) => expect(got[a]).toBeCloseTo(r.pred, 9));
  });

  it('is the same whatever the arrival order within that bound', () => {
    const inOrder = new TrendRuntime(K, DEFAULT_TI_UCB, 1000);
    feed(inOrder, rows(n, 1, 2), 500);
    const shuffled = new TrendRuntime(K, DEFAULT_TI_UCB, 1000);
    feed(shuffled, rows(n, 900, 2), 13);
    expect(shuffled.converged()).toEqual(inOrder.converged());
    expect(predictions(shuffled, nowMs)).toEqual(predictions(inOrder, nowMs));
  });

  it('keeps at most k · tail observations unfolded, and still counts rows older than what it folded', () => {
    const rt = new TrendRuntime(K, DEFAULT_TI_UCB, 1000);
    const all = rows(n, 1, 3);
    feed(rt, all, 500);
    expect(rt.kept()).toBeLessThanOrEqual(K * 1000);
    rt.add([{ ...all[0], id: 'very-late', createdAt: T0 - 1000 }]);
    expect(rt.pulls().reduce((s, p) => s + p, 0)).toBe(n + 1);
    expect(rt.kept()).toBeLessThanOrEqual(K * 1000 + 1);
  });

  it('takes a row delivered twice once', () => {
    const rt = new TrendRuntime(K);
    const all = rows(300, 1, 4);
    expect(rt.add(all)).toBe(300);
    expect(rt.add(all.slice(0, 10))).toBe(0);
    expect(rt.pulls().reduce((s, p) => s + p, 0)).toBe(300);
  });
});
