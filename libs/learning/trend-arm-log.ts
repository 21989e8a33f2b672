import { TiUcbArm, type TiUcbParams } from '@app/bandits';

/**
 * One arm's TI-UCB log in a replica (ALGORITHMS.md §9): the observations not folded yet, sorted by τ, and `arm`, the
 * state after all of them (what decisions read). The state is saved every `markEvery` kept observations, so an
 * observation that lands among them replays the arm from the last saved state before its place, not from the start.
 * Past `limit` kept, the oldest half is folded: dropped, the saved state at that point kept as the base. Memory and
 * the cost of a replay are therefore bounded by `limit`. An observation older than the newest folded one is placed
 * first among the kept ones (its place among the folded ones is lost); which ones were folded depends on how the
 * observations were batched, so beyond the kept ones two replicas may differ.
 */
export class TrendArmLog {
  arm = new TiUcbArm();
  private taus: number[] = [];
  private rs: number[] = [];
  /** The state before the first kept observation; marks[j] the state after the first (j + 1)·markEvery. */
  private base = new TiUcbArm();
  private marks: TiUcbArm[] = [];
  private incoming: { tau: number; r: number }[] = [];
  private readonly markEvery: number;

  constructor(
    private readonly limit: number,
    private readonly params: TiUcbParams,
  ) {
    this.markEvery = Math.max(1, Math.floor(limit / 10));
  }

  /** Observations kept unfolded. */
  get kept(): number {
    return this.taus.length;
  }

  /** Queues an observation; `settle` takes the queued ones together. */
  add(tau: number, r: number): void {
    this.incoming.push({ tau, r });
  }

  /** Places the queued observations in τ order (after equal τs already kept), replays what they moved, folds. */
  settle(): void {
    const inc = this.incoming;
    if (inc.length === 0) return;
    this.incoming = [];
    inc.sort((a, b) => a.tau - b.tau); // stable: equal τs keep their arrival order
    const last = this.taus.length > 0 ? this.taus[this.taus.length - 1] : this.base.lastTau;
    if (inc[0].tau >= last) for (const o of inc) this.append(o.tau, o.r);
    else this.replayFrom(this.merge(inc));
    this.fold();
  }

  private append(tau: number, r: number): void {
    this.taus.push(tau);
    this.rs.push(r);
    this.arm.observe(tau, r, this.params);
    if (this.taus.length % this.markEvery === 0) this.marks.push(this.arm.clone());
  }

  /** Merges sorted `inc` into the kept observations; returns the index of the first one that moved. */
  private merge(inc: readonly { tau: number; r: number }[]): number {
    const from = upperBound(this.taus, inc[0].tau);
    const taus = this.taus.slice(0, from);
    const rs = this.rs.slice(0, from);
    let i = from;
    for (const o of inc) {
      for (; i < this.taus.length && this.taus[i] <= o.tau; i++) {
        taus.push(this.taus[i]);
        rs.push(this.rs[i]);
      }
      taus.push(o.tau);
      rs.push(o.r);
    }
    for (; i < this.taus.length; i++) {
      taus.push(this.taus[i]);
      rs.push(this.rs[i]);
    }
    this.taus = taus;
    this.rs = rs;
    return from;
  }

  /** Rebuilds `arm` (and the marks) from the last saved state at or before kept observation `from`. */
  private replayFrom(from: number): void {
    const j = Math.floor(from / this.markEvery);
    this.marks.length = j;
    this.arm = (j === 0 ? this.base : this.marks[j - 1]).clone();
    const taus = this.taus;
    const rs = this.rs;
    this.taus = taus.slice(0, j * this.markEvery);
    this.rs = rs.slice(0, j * this.markEvery);
    for (let i = j * this.markEvery; i < taus.length; i++) this.append(taus[i], rs[i]);
  }

  /** Past `limit` kept: folds whole marks until about half remain. */
  private fold(): void {
    if (this.taus.length <= this.limit) return;
    const m = Math.floor((this.taus.length - (this.limit >> 1)) / this.markEvery);
    if (m === 0) return;
    this.base = this.marks[m - 1];
    this.marks = this.marks.slice(m);
    this.taus.splice(0, m * this.markEvery);
    this.rs.splice(0, m * this.markEvery);
  }
}

function upperBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
