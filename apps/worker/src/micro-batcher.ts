import { type BatchInput, type BatchOutcome } from '@app/ingest';
import { type DecisionRecord, type EventJobKind, type KindedItem } from '@app/contracts';

type Done = (e?: Error) => void;
/** What the batcher takes: a decisions job's whole list (split in halves if Postgres refuses a row), or one event. */
export type Submission = { kind: 'decisions'; data: DecisionRecord[] } | KindedItem<EventJobKind>;
export type Entry = Submission & { done: Done };

/** What an entry counts for against WORKER_BATCH_SIZE: one per event, one per decision of a decisions job. */
const weight = (e: Submission): number => (e.kind === 'decisions' ? Math.max(1, e.data.length) : 1);

export class OrphanEventError extends Error {}
/** The entry's data is refused by Postgres whatever is retried: it was set aside as a dead letter. */
export class DeadLetteredError extends Error {}

export interface PoisonHandling {
  /** Whether a pass's error comes from the data (retrying the same data cannot help). */
  isPermanent(e: unknown): boolean;
  /** Sets one entry aside durably; throws when it cannot (the entry then retries). */
  deadLetter(entry: Entry, error: Error): Promise<void>;
}

/**
 * Collects jobs handed over by the BullMQ processor and runs one learning pass per micro-batch (a 64×64 blob
 * update costs ~0.5 ms in Redis, so one per event would cap ingestion near 2k/s). Each job's promise settles
 * only when the pass that contains it has been persisted and applied, so BullMQ completes or retries it.
 *
 * A pass that fails on its data is bisected until the entry that Postgres refuses stands alone; that entry is
 * dead-lettered and every other entry of the batch is learnt at once (passes are idempotent, so re-running the
 * halves never counts anything twice). Outages fail the whole batch, which retries.
 */
export class MicroBatcher {
  private queue: Entry[] = [];
  /** The queue's entries' weight: a pass takes entries up to `maxBatch` of it (at least one entry). */
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = 0;
  /** Entries were left in the queue by the limit on passes in flight (they have waited their linger already). */
  private heldBack = false;

  constructor(
    private readonly run: (input: BatchInput) => Promise<BatchOutcome>,
    private readonly maxBatch: number,
    private readonly lingerMs: number,
    /** Passes in flight at once: they overlap their Postgres and Redis round trips (each pass is idempotent). */
    private readonly parallel = 3,
    private readonly poison?: PoisonHandling,
  ) {}

  submit(e: Submission): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...e, done: (err) => (err ? reject(err) : resolve()) });
      this.queued += weight(e);
      if (this.queued >= this.maxBatch) this.kick();
      else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.lingerMs);
    });
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running < this.parallel && this.queue.length > 0) {
      const batch = this.take();
      this.running++;
      void this.flush(batch).finally(() => {
        this.running--;
        // Entries that arrived during the pass wait for their own linger (their timer is set) unless they fill a
        // batch; entries left behind by the limit on passes in flight go now.
        if (this.queued >= this.maxBatch || (this.queue.length > 0 && (this.heldBack || !this.timer))) this.kick();
      });
    }
    this.heldBack = this.queue.length > 0;
  }

  /** The next pass's entries: from the front of the queue, up to `maxBatch` in weight (at least one entry). */
  private take(): Entry[] {
    let n = 0;
    let w = 0;
    while (n < this.queue.length && (n === 0 || w + weight(this.queue[n]) <= this.maxBatch)) w += weight(this.queue[n++]);
    this.queued -= w;
    return this.queue.splice(0, n);
  }

  private async flush(batch: Entry[]): Promise<void> {
    let out: BatchOutcome;
    try {
      out = await this.run(inputOf(batch));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!this.poison?.isPermanent(error)) for (const e of batch) e.done(error);
      else await this.isolate(batch, error);
      return;
    }
    const orphans = new Set(out.orphans);
    for (const e of batch) {
      const id = e.kind === 'decisions' ? null : e.data.eventId;
      e.done(id !== null && orphans.has(id) ? new OrphanEventError(`decision of event ${id} not found`) : undefined);
    }
  }

  /** Bisects a batch whose pass failed on its data; a lone failing entry is dead-lettered. */
  private async isolate(batch: Entry[], error: Error): Promise<void> {
    const units = batch.length === 1 ? splitEntry(batch[0]) : [batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1)];
    if (units.length === 2) {
      for (const half of units) await this.flush(half);
      return;
    }
    const entry = batch[0];
    try {
      await this.poison!.deadLetter(entry, error);
      entry.done(new DeadLetteredError(`set aside as a dead letter: ${error.message}`));
    } catch (err) {
      entry.done(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

function inputOf(batch: readonly Entry[]): BatchInput {
  const input: Required<BatchInput> = { decisions: [], feedback: [], energy: [], usage: [] };
  for (const e of batch) {
    switch (e.kind) {
      case 'decisions':
        input.decisions.push(...e.data);
        break;
      case 'feedback':
        input.feedback.push(e.data);
        break;
      case 'energy':
        input.energy.push(e.data);
        break;
      case 'usage':
        input.usage.push(e.data);
        break;
    }
  }
  return input;
}

/**
 * A decisions entry carrying several decisions splits into two halves that settle the entry together (its
 * first real failure wins; a dead-lettered half does not fail the others). Any other entry is indivisible.
 */
function splitEntry(e: Entry): Entry[][] {
  if (e.kind !== 'decisions' || e.data.length < 2) return [[e]];
  let left = 2;
  let failure: Error | undefined;
  let dead: Error | undefined;
  const part: Done = (err) => {
    if (err instanceof DeadLetteredError) dead ??= err;
    else if (err) failure ??= err;
    if (--left === 0) e.done(failure ?? dead);
  };
  const mid = e.data.length >> 1;
  return [[{ kind: 'decisions', data: e.data.slice(0, mid), done: part }], [{ kind: 'decisions', data: e.data.slice(mid), done: part }]];
}
