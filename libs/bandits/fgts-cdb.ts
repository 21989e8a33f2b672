import { type Rng } from './prng.js';

const { exp, max, sqrt } = Math;

/**
 * How utilities θᵀφ(x, a) are formed. `dense`: every record carries one feature row per option (ALGORITHMS.md
 * §7, test F1). `disjoint`: φ(x, a) puts x in arm a's block of θ ∈ ℝ^{K·d}, a per-model linear utility (our
 * routing choice while no CCFT model embeddings exist, §8).
 */
export interface FeatureSpace<C> {
  dim: number;
  /** Number of options (arms) in a context. */
  options(ctx: C): number;
  utility(theta: Float64Array, ctx: C, k: number): number;
  /** g += s·φ(ctx, k). */
  addScaled(g: Float64Array, ctx: C, k: number, s: number): void;
}

export interface DenseContext {
  /** K rows of length d, row-major. */
  phi: Float64Array;
  k: number;
}

export const denseSpace = (d: number): FeatureSpace<DenseContext> => ({
  dim: d,
  options: (c) => c.k,
  utility: (t, c, k) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += t[i] * c.phi[k * d + i];
    return s;
  },
  addScaled: (g, c, k, s) => {
    for (let i = 0; i < d; i++) g[i] += s * c.phi[k * d + i];
  },
});

export const disjointSpace = (arms: number, d: number): FeatureSpace<Float64Array> => ({
  dim: arms * d,
  options: () => arms,
  utility: (t, x, k) => {
    let s = 0;
    const o = k * d;
    for (let i = 0; i < d; i++) s += t[o + i] * x[i];
    return s;
  },
  addScaled: (g, x, k, s) => {
    const o = k * d;
    for (let i = 0; i < d; i++) g[o + i] += s * x[i];
  },
});

/** A duel (a vs b; `p` = 1 if a won, 0 if b won, ½ for a tie) or, with b = −1, a thumb on a alone (p = quality). */
export interface PreferenceRecord<C> {
  ctx: C;
  a: number;
  b: number;
  p: number;
}

export interface FgtsParams {
  /** Weight η of the logistic (Bradley–Terry) loss. */
  eta: number;
  /** Feel-good weight μ (theory ≈ 1/(10·e^B·√T), ≈ 0 in practice). */
  mu: number;
  /** Weight of pointwise thumbs on single decisions (§7 "pointwise + pairwise"). */
  etaPointwise: number;
  /** SGLD steps per decision and chain. */
  steps: number;
  /** Prior p₀ = N(0, σ₀²I). */
  sigma0: number;
  /** Records per gradient (a uniform minibatch, rescaled to the full count); 0 = full batch. */
  batch: number;
  /** Chain states kept to estimate each sampler's marginal (the pair propensity). */
  keep: number;
}

export const DEFAULT_FGTS: FgtsParams = { eta: 1, mu: 0, etaPointwise: 1, steps: 10, sigma0: 1, batch: 256, keep: 32 };

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)));

/**
 * Feel-Good Thompson Sampling for contextual duelling bandits (Li, Zhao, Gu, ICML 2024; ALGORITHMS.md §7): two
 * independent SGLD chains on U_j(θ) = ‖θ‖²/2σ₀² + η·Σ logistic loss − μ·Σ max_a′ θᵀ(φ(x,a′) − φ(x, a^{3−j})),
 * warm-started from the previous decision. The records are the durable, mergeable state (§11); a chain is
 * per-process and order-dependent, so every replica runs its own on the merged records.
 */
export class FgtsSampler<C> {
  readonly chains: [Float64Array, Float64Array];
  private readonly history: [Float64Array[], Float64Array[]] = [[], []];
  private readonly grad: Float64Array;

  constructor(
    readonly space: FeatureSpace<C>,
    readonly params: FgtsParams,
  ) {
    this.chains = [new Float64Array(space.dim), new Float64Array(space.dim)];
    this.grad = new Float64Array(space.dim);
  }

  /** Moves both chains `steps` SGLD steps on the records. */
  advance(records: readonly PreferenceRecord<C>[], rng: Rng): void {
    const p = this.params;
    const n = records.length;
    const eps = 0.5 / ((p.eta * (n + 1)) / 4 + 1 / (p.sigma0 * p.sigma0));
    for (let j = 0; j < 2; j++) {
      const th = this.chains[j];
      for (let s = 0; s < p.steps; s++) {
        this.gradient(th, j, records, rng);
        const noise = sqrt(2 * eps);
        for (let i = 0; i < th.length; i++) th[i] += -eps * this.grad[i] + noise * rng.normal();
      }
      const h = this.history[j];
      h.push(Float64Array.from(th));
      if (h.length > p.keep) h.shift();
    }
  }

  /** ∇U_j at θ over all records or a rescaled uniform minibatch. */
  private gradient(th: Float64Array, j: number, records: readonly PreferenceRecord<C>[], rng: Rng): void {
    const { space, params: p } = this;
    const g = this.grad;
    const inv = 1 / (p.sigma0 * p.sigma0);
    for (let i = 0; i < g.length; i++) g[i] = th[i] * inv;
    const n = records.length;
    const m = p.batch > 0 && n > p.batch ? p.batch : n;
    const scale = n / max(m, 1);
    for (let k = 0; k < m; k++) {
      const r = m === n ? records[k] : records[rng.int(n)];
      if (r.b < 0) {
        const u = space.utility(th, r.ctx, r.a);
        space.addScaled(g, r.ctx, r.a, scale * p.etaPointwise * (sigmoid(u) - r.p));
        continue;
      }
      const z = space.utility(th, r.ctx, r.a) - space.utility(th, r.ctx, r.b);
      const c = scale * p.eta * (sigmoid(z) - r.p);
      space.addScaled(g, r.ctx, r.a, c);
      space.addScaled(g, r.ctx, r.b, -c);
      if (p.mu > 0) {
        const best = bestOption(space, th, r.ctx, -1);
        const other = j === 0 ? r.b : r.a;
        space.addScaled(g, r.ctx, best, -scale * p.mu);
        space.addScaled(g, r.ctx, other, scale * p.mu);
      }
    }
  }

  /**
   * The pair for context `ctx`: a^j = argmax_a θ_jᵀφ(x, a) over `allowed`. With `distinct`, a² is chain 2's best
   * option other than a¹ (a duel of one model teaches nothing). Propensity: product of each sampler's marginal,
   * estimated over the chain's kept states (MCMC draws of its posterior).
   */
  pair(ctx: C, allowed: readonly number[], distinct: boolean): { first: number; second: number; propensity: number } {
    const first = bestAmong(this.space, this.chains[0], ctx, allowed, -1);
    const second = bestAmong(this.space, this.chains[1], ctx, allowed, distinct ? first : -1);
    const p1 = this.marginal(0, ctx, allowed, first, -1);
    const p2 = this.marginal(1, ctx, allowed, second, distinct ? first : -1);
    return { first, second, propensity: p1 * p2 };
  }

  /** Share of chain j's kept states (with the current one) whose pick at ctx is `arm`. */
  marginal(j: number, ctx: C, allowed: readonly number[], arm: number, exclude: number): number {
    const states = this.history[j];
    if (states.length === 0) return 1;
    let wins = 0;
    for (const th of states) if (bestAmong(this.space, th, ctx, allowed, exclude) === arm) wins++;
    return wins / states.length;
  }
}

const ranges: number[][] = [];
/** 0 … k−1, cached (the feel-good term asks for every option of every record). */
const range = (k: number): number[] => (ranges[k] ??= Array.from({ length: k }, (_, i) => i));

function bestOption<C>(space: FeatureSpace<C>, th: Float64Array, ctx: C, exclude: number): number {
  return bestAmong(space, th, ctx, range(space.options(ctx)), exclude);
}

function bestAmong<C>(space: FeatureSpace<C>, th: Float64Array, ctx: C, allowed: readonly number[], exclude: number): number {
  let best = -1;
  let top = -Infinity;
  for (const k of allowed) {
    if (k === exclude) continue;
    const u = space.utility(th, ctx, k);
    if (u > top) {
      top = u;
      best = k;
    }
  }
  return best;
}
