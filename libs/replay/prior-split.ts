import { createHash } from 'node:crypto';

/**
 * A record id mapped to [0, 1): the first 48 bits of its SHA-256 (UTF-8) over 2⁴⁸. Deterministic and independent
 * of any seed, so a split by it is the same in every run and reproducible outside this code.
 */
export function idFraction(id: string): number {
  return createHash('sha256').update(id, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48;
}

/** Whether a record with this id is in the part of a `--prior-split fraction` that the prior is fitted on. */
export const inPriorPart = (id: string, fraction: number): boolean => idFraction(id) < fraction;

/** Records split by id: `prior` (≈ fraction of them) to fit the warm start on, `replay` the others. */
export function splitForPrior<T extends { id: string }>(records: readonly T[], fraction: number): { prior: T[]; replay: T[] } {
  const prior: T[] = [];
  const replay: T[] = [];
  for (const r of records) (inPriorPart(r.id, fraction) ? prior : replay).push(r);
  return { prior, replay };
}
