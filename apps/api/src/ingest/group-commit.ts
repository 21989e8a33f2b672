/**
 * Group commit: single items submitted at about the same time are handled as one group (one pass through Redis,
 * one queued job), and each submitter gets its own item's answer once the whole group is done, so an answer
 * still means "durable in the queue". A group closes `maxWaitMs` after its first item or at `maxSize` items when
 * the recent arrival rate says that waiting gathers something: at least half an item expected within the window
 * (the rate is a count of items decaying with a time constant of {@link RATE_WINDOW_MS}). Otherwise, as always
 * with `maxWaitMs` 0, the group closes at the end of the current turn of the event loop, which already gathers
 * requests that arrived together: sparse traffic waits for nothing. A caller that sends one item after the answer
 * to its previous one, fast enough to look like steady traffic, waits the window each time: bulk senders should
 * use batches or send concurrently.
 * A failed group fails every submitter with the same error (each may retry; the items are idempotent).
 */
/** Time constant of the arrival rate (ms): about the last 100 ms of traffic decide whether a group waits. */
export const RATE_WINDOW_MS = 100;
/** Items expected within the window for a group to wait for them. */
const WORTH_WAITING = 0.5;

export class GroupCommit<E, R> {
  private open: { entries: E[]; settle: Array<[(r: R) => void, (e: unknown) => void]>; timer: NodeJS.Timeout | NodeJS.Immediate } | null = null;
  /** Items submitted, decaying with time constant RATE_WINDOW_MS (so rate ≈ this / RATE_WINDOW_MS), as of `countedAt`. */
  private recent = 0;
  private countedAt = 0;

  constructor(
    private readonly commit: (entries: E[]) => Promise<R[]>,
    private readonly maxWaitMs: number,
    private readonly maxSize: number,
  ) {}

  submit(entry: E): Promise<R> {
    const now = performance.now();
    this.recent = this.recent * Math.exp((this.countedAt - now) / RATE_WINDOW_MS) + 1;
    this.countedAt = now;
    return new Promise<R>((resolve, reject) => {
      const group = (this.open ??= { entries: [], settle: [], timer: this.schedule() });
      group.entries.push(entry);
      group.settle.push([resolve, reject]);
      if (group.entries.length >= this.maxSize) this.close();
    });
  }

  private schedule() {
    const expected = (this.recent / RATE_WINDOW_MS) * this.maxWaitMs;
    return expected >= WORTH_WAITING ? setTimeout(() => this.close(), this.maxWaitMs) : setImmediate(() => this.close());
  }

  private close(): void {
    const group = this.open;
    if (!group) return;
    this.open = null;
    clearTimeout(group.timer as NodeJS.Timeout);
    clearImmediate(group.timer as NodeJS.Immediate);
    this.commit(group.entries).then(
      (results) => group.settle.forEach(([resolve], i) => resolve(results[i])),
      (err: unknown) => group.settle.forEach(([, reject]) => reject(err)),
    );
  }
}
