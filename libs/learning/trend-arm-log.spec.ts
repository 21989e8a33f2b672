import { TiUcbArm, type TiUcbParams } from '@app/bandits';
import { TrendArmLog } from './trend-arm-log.js';

// A small window and a check on every observation, so that the detector's state depends on the order.
const P: TiUcbParams = { window: 2, delta: 0.2, every: 1, checks: 2, c: Math.SQRT2, warmPulls: 2 };
const obs = (taus: number[]) => taus.map((tau) => ({ tau, r: (tau * 7) % 3 === 0 ? 1 : 0 }));

function replay(list: { tau: number; r: number }[]): TiUcbArm {
  const arm = new TiUcbArm();
  for (const o of list) arm.observe(o.tau, o.r, P);
  return arm;
}

const same = (a: TiUcbArm, b: TiUcbArm) => {
  expect([a.pulls, a.convergedAt, a.lastTau]).toEqual([b.pulls, b.convergedAt, b.lastTau]);
  for (const t of [a.lastTau - 0.5, a.lastTau, 100]) expect(a.predict(t, P.window)).toBeCloseTo(b.predict(t, P.window), 12);
};

describe('TrendArmLog (one arm of a replica’s TI-UCB state)', () => {
  it('folds the oldest once past its limit, and places an observation older than the newest folded first among the kept', () => {
    const log = new TrendArmLog(10, P); // saves the state after every kept observation; folds down to 5
    const first = obs([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const o of first) log.add(o.tau, o.r);
    log.settle();
    expect(log.kept).toBe(5); // 1–6 folded, 7–11 kept
    same(log.arm, replay(first));
    const [late] = obs([3.5]);
    log.add(late.tau, late.r);
    log.settle();
    // Not at its place among the folded (after 3), but first among the kept (before 7).
    same(log.arm, replay([...first.slice(0, 6), late, ...first.slice(6)]));
    expect(log.kept).toBe(6);
  });

  it('places an observation among the kept ones by τ, after equal τs already kept, from the last saved state', () => {
    const log = new TrendArmLog(100, P);
    const kept = [0, 0, 1, 0, 1].map((r, i) => ({ tau: i + 1, r }));
    for (const o of kept) log.add(o.tau, o.r);
    log.settle();
    // The window (the last two) then holds the tie and τ = 5, not τ = 4 and τ = 5.
    const tie = { tau: 4, r: 1 };
    log.add(tie.tau, tie.r);
    log.settle();
    same(log.arm, replay([...kept.slice(0, 4), tie, kept[4]]));
    log.add(2.5, 1);
    log.add(6, 0);
    log.settle();
    same(log.arm, replay([...kept.slice(0, 2), { tau: 2.5, r: 1 }, ...kept.slice(2, 4), tie, kept[4], { tau: 6, r: 0 }]));
  });
});
