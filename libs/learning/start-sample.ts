/**
 * A bounded, deterministic sample of the contexts of a policy's prior uploads: where a budget's start price is
 * searched (budgetStartPrices). Reservoir sampling (Vitter's algorithm R) over the distinct contexts of the uploads
 * in the order they arrive, with the replacement slot of the i-th context a fixed hash of i, so uploading the
 * same prompts in one call or in several gives the same sample, on every replica and in the replay.
 */
export interface StartSample {
  /** Contexts offered so far (distinct within each upload). */
  seen: number;
  contexts: Float64Array[];
}

/** At most this many contexts, and at most 1 MiB of them (8·d bytes each). */
export const START_SAMPLE_MAX = 2000;
const START_SAMPLE_BYTES = 1 << 20;

export const startSampleCap = (d: number): number => Math.max(1, Math.min(START_SAMPLE_MAX, Math.floor(START_SAMPLE_BYTES / (8 * d))));

/** Where the sample is stored beside the per-arm upload statistics (not an arm id: ids never contain '#'). */
export const START_SAMPLE_KEY = '#start-sample';

export const emptyStartSample = (): StartSample => ({ seen: 0, contexts: [] });

/** 32-bit mix of an index (splitmix-style finaliser): the reservoir's "random" slot, the same everywhere. */
function mix(i: number): number {
  let h = Math.imul(i ^ 0x5bd1e995, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Offers contexts (dimension d) to the sample, in order; returns the same object, updated. */
export function addToStartSample(sample: StartSample, contexts: readonly Float64Array[], d: number): StartSample {
  const cap = startSampleCap(d);
  for (const x of contexts) {
    const i = sample.seen++;
    if (sample.contexts.length < cap) sample.contexts.push(x);
    else {
      const j = mix(i) % (i + 1);
      if (j < cap) sample.contexts[j] = x;
    }
  }
  return sample;
}

/** Packed as [seen, n, ...contexts] (what is stored beside the upload statistics). */
export function packStartSample(s: StartSample, d: number): Float64Array {
  const out = new Float64Array(2 + s.contexts.length * d);
  out[0] = s.seen;
  out[1] = s.contexts.length;
  s.contexts.forEach((x, k) => out.set(x, 2 + k * d));
  return out;
}

/** The stored sample, or an empty one when there is none or it was made at another dimension. */
export function unpackStartSample(v: Float64Array | undefined, d: number): StartSample {
  if (!v || v.length < 2 || v.length !== 2 + v[1] * d) return emptyStartSample();
  const contexts = Array.from({ length: v[1] }, (_, k) => v.slice(2 + k * d, 2 + (k + 1) * d));
  return { seen: v[0], contexts };
}
