import { type Rng } from './prng.js';

export interface Choice {
  /** Position in the candidate list. */
  pick: number;
  /** Probability with which this candidate was going to be picked (the logged propensity). */
  propensity: number;
}

const TIE = 1e-12;

/**
 * ε-mixed argmax over `scores` (ALGORITHMS.md §12): with probability 1−ε the best candidate (ties broken at
 * random), otherwise a uniform one. The propensity logged is the exact probability of the candidate returned:
 * (1−ε)·𝟙[best]/#ties + ε/n.
 */
export function epsilonArgmax(scores: ArrayLike<number>, n: number, epsilon: number, rng: Rng): Choice {
  let best = -Infinity;
  for (let i = 0; i < n; i++) if (scores[i] > best) best = scores[i];
  let ties = 0;
  for (let i = 0; i < n; i++) if (scores[i] >= best - TIE) ties++;
  let pick: number;
  if (epsilon > 0 && rng.next() < epsilon) {
    pick = rng.int(n);
  } else {
    let k = ties > 1 ? rng.int(ties) : 0;
    pick = 0;
    for (let i = 0; i < n; i++) {
      if (scores[i] >= best - TIE) {
        if (k === 0) {
          pick = i;
          break;
        }
        k--;
      }
    }
  }
  const isBest = scores[pick] >= best - TIE;
  const propensity = (isBest ? (1 - epsilon) / ties : 0) + epsilon / n;
  return { pick, propensity };
}
