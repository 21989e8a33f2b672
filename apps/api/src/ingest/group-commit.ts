/**
 * Group commit: single items submitted at about the same time are handled as one group (one pass through Redis,
 * one queued job), and each submitter gets its own item's answer once the whole group is done, so an answer
 * still means "durable in the queue". A group closes `maxWaitMs` after its first item or at `maxSize` items; a group
 * opened when the one before it closed longer than `maxWaitMs` ago (traffic too sparse for waiting to gather
 * anything) closes at the end of the current turn of the event loop instead, which already gathers requests that
 * arrived together, as it always does with `maxWaitMs` 0.
 * A failed group fails every submitter with the same error (each may retry; the items are idempotent).
 */
export class GroupCommit<E, R> {
  private open: { entries: E[]; settle: Array<[(r: R) => void, (e: unknown) => void]>; timer: NodeJS.Timeout | NodeJS.Immediate } | null = null;
  private lastClosedAt = -Infinity;

  constructor(
    private readonly commit: (entries: E[]) => Promise<R[]>,
    private readonly maxWaitMs: number,
    private readonly maxSize: number,
  ) {}

  submit(entry: E): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const group = (this.open ??= { entries: [], settle: [], timer: this.schedule() });
      group.entries.push(entry);
      group.settle.push([resolve, reject]);
      if (group.entries.length >= this.maxSize) this.close();
    });
  }

  private schedule() {
    const busy = performance.now() - this.lastClosedAt < this.maxWaitMs;
    return busy ? setTimeout(() => this.close(), this.maxWaitMs) : setImmediate(() => this.close());
  }

  private close(): void {
    const group = this.open;
    if (!group) return;
    this.open = null;
    this.lastClosedAt = performance.now();
    clearTimeout(group.timer as NodeJS.Timeout);
    clearImmediate(group.timer as NodeJS.Immediate);
    this.commit(group.entries).then(
      (results) => group.settle.forEach(([resolve], i) => resolve(results[i])),
      (err: unknown) => group.settle.forEach(([, reject]) => reject(err)),
    );
  }
}
