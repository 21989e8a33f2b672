import { type PolicyPrior } from '@app/contracts';
import { type FittedArmPrior } from './prior-fit.js';

/**
 * The prior a policy stores, from a fit over its arms (`fitted[i]` for `arms[i]`): per arm name θ⁰ as plain
 * numbers (and the fits of the heads the records measured), the pseudo-observations it is worth and the offline
 * outcomes behind it; arms the fit left without a
 * prior (null) are left out. `records` counts the offline records fitted, `installedAt` is an ISO time. The one
 * conversion for the prior endpoint and the replay's warm start, so both install the same prior.
 */
export function toPolicyPrior(arms: readonly string[], fitted: readonly (FittedArmPrior | null)[], records: number, installedAt: string): PolicyPrior {
  const prior: PolicyPrior = { installedAt, records, arms: {} };
  fitted.forEach((f, a) => {
    if (!f) return;
    const arm: PolicyPrior['arms'][string] = { theta: Array.from(f.theta), weight: f.weight, records: f.records };
    if (f.heads) arm.heads = Object.fromEntries(Object.entries(f.heads).map(([h, t]) => [h, Array.from(t)]));
    if (f.means) arm.means = { ...f.means };
    prior.arms[arms[a]] = arm;
  });
  return prior;
}
