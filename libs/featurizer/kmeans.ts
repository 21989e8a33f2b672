/**
 * k-means (Lloyd's algorithm) with k-means++ seeding (Arthur & Vassilvitskii, "k-means++: the advantages of careful
 * seeding", SODA 2007), over `n` points of `m` coordinates stored row-major in a Float64Array.
 *
 * Deterministic for a given `uniform` generator and point order: ties go to the lowest index, sums run in index
 * order. Cost O(n·k·m) per iteration, at most `maxIterations` iterations.
 */
export interface KMeans {
  /** k × m, row-major. */
  centroids: Float64Array;
  /** Nearest centroid of each point. */
  assignment: Int32Array;
  /** Σ over points of the squared distance to their nearest centroid. */
  inertia: number;
  iterations: number;
}

/** Squared Euclidean distance between `a[ai…ai+m)` and `b[bi…bi+m)`. */
export function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, m: number): number {
  let s = 0;
  for (let j = 0; j < m; j++) {
    const d = a[ai + j] - b[bi + j];
    s += d * d;
  }
  return s;
}

/** Index of the centroid nearest to `x[xi…xi+m)` (lowest index on ties), and its squared distance into `dist[0]`. */
export function nearest(centroids: Float64Array, k: number, x: Float64Array, xi: number, m: number, dist?: Float64Array): number {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < k; c++) {
    const d = squaredDistance(centroids, c * m, x, xi, m);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (dist) dist[0] = bestD;
  return best;
}

/** k-means++ seeding: the first centre uniform, each next one drawn with probability ∝ D² (distance to the nearest chosen centre). */
function seedCentroids(points: Float64Array, n: number, m: number, k: number, uniform: () => number): Float64Array {
  const centroids = new Float64Array(k * m);
  const d2 = new Float64Array(n).fill(Infinity);
  let pick = Math.min(n - 1, Math.floor(uniform() * n));
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(pick * m, pick * m + m), c * m);
    if (c === k - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = squaredDistance(points, i * m, centroids, c * m, m);
      if (d < d2[i]) d2[i] = d;
      total += d2[i];
    }
    if (total === 0) {
      pick = Math.min(n - 1, Math.floor(uniform() * n)); // fewer distinct points than centres: a repeat
      continue;
    }
    let r = uniform() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d2[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}

/**
 * Clusters `n` points of `m` coordinates into `k` (1 ≤ k ≤ n). Lloyd iterations until no point changes cluster;
 * an emptied cluster keeps its centre.
 */
export function kmeans(points: Float64Array, n: number, m: number, k: number, uniform: () => number, maxIterations = 100): KMeans {
  if (!(k >= 1 && k <= n)) throw new RangeError(`k-means: need 1 ≤ k ≤ n (k = ${k}, n = ${n})`);
  const centroids = seedCentroids(points, n, m, k, uniform);
  const assignment = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * m);
  const counts = new Int32Array(k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const c = nearest(centroids, k, points, i * m, m);
      if (c !== assignment[i]) {
        assignment[i] = c;
        changed++;
      }
    }
    if (changed === 0) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assignment[i];
      counts[c]++;
      for (let j = 0; j < m; j++) sums[c * m + j] += points[i * m + j];
    }
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let j = 0; j < m; j++) centroids[c * m + j] = sums[c * m + j] / counts[c];
  }
  // Final centres: each point's nearest one (the same assignment unless maxIterations cut the loop short).
  let inertia = 0;
  const dist = new Float64Array(1);
  for (let i = 0; i < n; i++) {
    assignment[i] = nearest(centroids, k, points, i * m, m, dist);
    inertia += dist[0];
  }
  return { centroids, assignment, inertia, iterations };
}
