/** The label value series beyond the cap are counted under. */
export const OTHER = '(other)';

/**
 * Caps the label combinations a metric takes: the first `max` distinct combinations are kept as they are, any
 * later new one is reported as `(other)` in every label, so a registry or key list that grows without bound cannot
 * grow the metrics page (and the scraper's series) with it.
 */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  labels<T extends Record<string, string>>(labels: T): T {
    const k = JSON.stringify(labels);
    if (this.seen.has(k)) return labels;
    if (this.seen.size < this.max) {
      this.seen.add(k);
      return labels;
    }
    return Object.fromEntries(Object.keys(labels).map((name) => [name, OTHER])) as T;
  }
}
