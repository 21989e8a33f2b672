import { createHash } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  batchJobPayload,
  type DecisionHead,
  EVENT_KINDS,
  type EventAck,
  type EventJobKind,
  id,
  type KindedItem,
  JOB_KINDS,
  MAX_ID_LENGTH,
  MIXED_EVENTS,
  mixedJobPayload,
  ownedEventId,
  type Principal,
  QUEUE_NAME,
} from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, JOB_OPTIONS, jobIdFor } from '@app/infra';
import { modelInScope } from '../proxy/model-access.js';
import { DecisionHotStore, type SeenMark } from '@app/store';
import { type JobsOptions, type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';
import { RandomIds } from '../random-ids.js';
import { DecisionLookup } from '../routing/decision-lookup.service.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { KeyLimitsService } from '../limits/key-limits.service.js';
import { issuesToErrors } from '../validation.js';
import { GroupCommit } from './group-commit.js';
import { WorkerProtocol } from './worker-protocol.service.js';
import { cascadeShares, checkAgainstDecision, type IntakeKind, type ItemProblem, parseEvent, type Prepared } from './event-intake.js';

export type ItemResult = EventAck | { index: number; status: 'rejected'; problem: ItemProblem & { retryAfterSeconds?: number } };
/** An event that may be queued; `share`: what a cascade's feedback also teaches (cascadeShares), answered through its original. */
type Ready = Prepared & { late: boolean; share?: true };
/**
 * The bound an event counts against (MAX_EVENTS_PER_DECISION each): its decision's feedback, or apart from it its
 * decision's energy readings, which telemetry keys of any owner may send, so that they cannot use up the owner's
 * feedback. Undefined for a model-level reading (no decision).
 */
const boundOf = (p: Prepared): string | undefined => (p.decisionId === undefined ? undefined : p.kind === 'energy' ? `${p.decisionId}|readings` : p.decisionId);
/** One event as submitted: its kind, its caller, its body, where its field paths start, and its caller-side id rule. */
interface Entry {
  kind: IntakeKind;
  caller: Principal;
  raw: unknown;
  prefix: string;
  callerId: (given?: string) => string;
}
/** A job as `Queue.addBulk` takes it. */
type QueuedJob = { name: string; data: object; opts: JobsOptions };
/** The most single events one group carries. */
const GROUP_MAX = 500;

const RETRY_AFTER_S = 5;
/**
 * How long an event id's pending mark is taken to belong to a request still under way (its copies are told to
 * retry, after BUSY_RETRY_AFTER_S); an older one was left by a request that failed, and the next copy takes it over.
 */
const PENDING_STALE_MS = 10_000;
const BUSY_RETRY_AFTER_S = 1;
const idempotencyKeySchema = id('Idempotency-Key');
function checkIdempotencyKey(key: string | undefined): void {
  if (key === undefined) return;
  const r = idempotencyKeySchema.safeParse(key);
  if (!r.success)
    throw new DomainError(
      'VALIDATION',
      'invalid Idempotency-Key header',
      issuesToErrors(r.error.issues).map((e) => ({ ...e, path: 'Idempotency-Key' })),
    );
}
/** A batch's item ids are `<key>:<index>`: each must be an id too, so the key leaves room for the longest index. */
function checkBatchKey(key: string | undefined, items: number): void {
  if (key === undefined || items === 0) return;
  const longest = MAX_ID_LENGTH - 1 - String(items - 1).length;
  if (key.length > longest)
    throw new DomainError('VALIDATION', 'invalid Idempotency-Key header', [
      { path: 'Idempotency-Key', message: `with ${items} items, at most ${longest} characters (each item's id is <key>:<index>)` },
    ]);
}
const unavailable = (what = 'the event queue is unavailable; retry later') => new DomainError('UNAVAILABLE', what, [], RETRY_AFTER_S);

/**
 * Feedback and energy readings: count against the key's `eventsPerMinute` → validate → check the decision exists and belongs to the caller's owner →
 * answer "duplicate" for an event id the owner sent before → bound the events per decision → enqueue (job id
 * from the event id) → 202. Nothing here touches learning state; the worker does, exactly once. Everything
 * Postgres would reject is refused here, so an accepted event can always be stored.
 */
@Injectable()
export class IngestService {
  constructor(
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    private readonly hot: DecisionHotStore,
    private readonly lookup: DecisionLookup,
    private readonly cache: PolicyCache,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerProtocol,
    private readonly limits: KeyLimitsService,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {
    this.group = new GroupCommit((entries) => this.process(entries, true), env.INGEST_GROUP_COMMIT_MS, GROUP_MAX);
  }

  /**
   * Single events of every kind, committed in groups: one Redis pass for the group, and one queued job per queue
   * kind it holds (sent together).
   */
  private readonly group: GroupCommit<Entry, ItemResult>;
  /** Ids of events the caller did not name (`ev_…`). */
  private readonly eventIds = new RandomIds('ev_');

  /** One event: errors are thrown (4xx problem). With group commit on, it is queued with its neighbours in time. */
  async one(kind: IntakeKind, caller: Principal, body: unknown, idempotencyKey?: string): Promise<EventAck> {
    checkIdempotencyKey(idempotencyKey);
    await this.limits.admitEvents(caller, 1);
    const entry: Entry = { kind, caller, raw: body, prefix: '', callerId: (given) => given ?? idempotencyKey ?? this.eventIds.id() };
    const r = this.env.INGEST_GROUP_COMMIT_MS < 0 ? (await this.process([entry], false))[0] : await this.group.submit(entry);
    if ('problem' in r) throw new DomainError(codeOf(r.problem), r.problem.detail, r.problem.errors, r.problem.retryAfterSeconds);
    return r;
  }

  /** A batch: every item gets its own answer; invalid items do not stop the valid ones. */
  async many(kind: IntakeKind, caller: Principal, items: unknown[], idempotencyKey: string | undefined): Promise<ItemResult[]> {
    checkIdempotencyKey(idempotencyKey);
    checkBatchKey(idempotencyKey, items.length);
    await this.limits.admitEvents(caller, items.length);
    const entries = items.map((raw, index): Entry => ({
      kind,
      caller,
      raw,
      prefix: `events.${index}.`,
      callerId: (given) => given ?? (idempotencyKey ? `${idempotencyKey}:${index}` : this.eventIds.id()),
    }));
    // A batch item's problem says its status, detail and fields (its type is a single event's answer).
    return (await this.process(entries, true)).map((r) => {
      if (!('problem' in r) || r.problem.code === undefined) return r;
      const { code: _code, ...problem } = r.problem;
      return { ...r, problem };
    });
  }

  /**
   * Events (each with its own kind and caller) → their answers, in order. `oneJob`: the accepted events go to the
   * queue as one job per queue kind (a batch, or a group of single events); otherwise one job per event.
   */
  private async process(entries: Entry[], oneJob: boolean): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array<ItemResult>(entries.length);
    const reject = (index: number, problem: ItemProblem) => {
      const prefix = entries[index].prefix;
      results[index] = { index, status: 'rejected', problem: { ...problem, errors: problem.errors.map((e) => ({ ...e, path: prefix + e.path })) } };
    };
    const now = Date.now();
    const prepared: Prepared[] = [];
    entries.forEach(({ kind, caller, raw, callerId }, index) => {
      const p = parseEvent(kind, raw, index, now, callerId, (id) => ownedEventId(caller.owner, id));
      if ('problem' in p) reject(index, p.problem);
      else prepared.push(p);
    });

    const { found, marks } = await this.lookUpAndMark(prepared);
    const ok: Ready[] = [];
    for (const p of prepared) {
      const dec = p.decisionId === undefined ? undefined : found.get(p.decisionId);
      const caller = entries[p.index].caller;
      // A key restricted to policies reports readings of their arms only (any other model answers as unknown).
      const known = (m: string) => this.cache.model(m) !== undefined && modelInScope(caller, m, (policy) => this.cache.get(policy)?.policy.arms);
      const problem = checkAgainstDecision(caller, p, dec, known);
      if (problem) reject(p.index, problem);
      else {
        const late = dec !== undefined && this.isLate(dec, now);
        ok.push({ ...p, late });
        for (const share of cascadeShares(p, dec)) ok.push({ ...share, late, share: true });
      }
    }

    const queued = await this.admit(ok, marks, results, oneJob, (index) => entries[index].prefix);
    for (const p of queued.over)
      if (!p.share)
        reject(p.index, {
          status: 409,
          detail: `decision ${p.decisionId} has had the most ${p.kind === 'energy' ? 'energy readings' : 'feedback events'} one decision may have (${this.env.MAX_EVENTS_PER_DECISION})`,
          errors: [{ path: 'decisionId', message: 'too many events for this decision' }],
        });
    // Counted per label set, not per event: a labelled counter's increment hashes its labels each time.
    const rewards = new Map<string, number>();
    let joules = 0;
    for (const p of queued.accepted) {
      if (p.share) continue;
      results[p.index] = { eventId: p.callerEventId, status: p.late ? 'late' : 'accepted' };
      if (p.kind === 'feedback' && !p.late) {
        const policy = found.get(p.decisionId)?.policy ?? 'unknown';
        rewards.set(policy, (rewards.get(policy) ?? 0) + p.job.reward);
      }
      if (p.kind === 'energy') joules += p.job.joules;
    }
    for (const c of queued.copies) results[c.index] = asCopy(results[c.first], c, entries[c.first].prefix, entries[c.index].prefix);
    for (const [policy, sum] of rewards) this.metrics.rewards.inc({ policy }, sum);
    if (joules > 0) this.metrics.energy.inc(joules);
    const outcomes = new Map<string, { kind: IntakeKind; status: ItemResult['status']; n: number }>();
    results.forEach((r, i) => {
      if (!r) return;
      const key = `${entries[i].kind}:${r.status}`;
      const o = outcomes.get(key);
      if (o) o.n++;
      else outcomes.set(key, { kind: entries[i].kind, status: r.status, n: 1 });
    });
    for (const { kind, status, n } of outcomes.values()) this.metrics.feedback.inc({ kind, status }, n);
    return results;
  }

  private isLate(dec: DecisionHead, now: number): boolean {
    const window = this.cache.get(dec.policy)?.policy.feedback.windowSeconds ?? Infinity;
    return now > dec.createdAt + window * 1000;
  }

  /**
   * The events' decisions looked up and their ids marked seen, in one round trip to Redis (the commands go out
   * together). `marks`: what each event id's mark was (DecisionHotStore.markSeen). Marking before the decision is
   * checked touches only the caller's own namespace of ids; an event refused by its check gives back the mark it
   * set, in admit. If the lookup fails, the marks this call set are given back; if marking fails, the request gets
   * a 503 (a mark set before the failure stays pending: copies hear a retryable 503 until it is 10 s old, then take it over).
   */
  private async lookUpAndMark(prepared: Prepared[]): Promise<{ found: Map<string, DecisionHead>; marks: Map<string, SeenMark> }> {
    const ids = [...new Set(prepared.map((p) => p.eventId))];
    const decisionIds = [...new Set(prepared.flatMap((p) => (p.decisionId ? [p.decisionId] : [])))];
    const [found, seen] = await Promise.allSettled([this.lookup.findHeads(decisionIds), this.markSeen(ids)]);
    if (found.status === 'rejected') {
      if (seen.status === 'fulfilled') this.giveBack(seen.value, ids);
      throw found.reason;
    }
    if (seen.status === 'rejected') throw unavailable();
    return { found: found.value, marks: seen.value };
  }

  private async markSeen(ids: string[]): Promise<Map<string, SeenMark>> {
    if (ids.length === 0) return new Map();
    const marks = await this.hot.markSeen(ids, this.env.EVENT_DEDUP_TTL_SECONDS, PENDING_STALE_MS);
    return new Map(ids.map((id, i) => [id, marks[i]]));
  }

  /**
   * Best effort, not waited for: the marks of `ids` that this request set are given back (their events were not
   * queued). A pending mark it only found (`busy`) belongs to another request and stays; the store deletes a mark
   * only while it is pending. Later commands on the connection (this request's own) run after it.
   */
  private giveBack(marks: ReadonlyMap<string, SeenMark>, ids: Iterable<string>): void {
    const set = [...ids].filter((id) => marks.get(id) === 'new');
    if (set.length > 0) this.hot.unmarkSeen(set).catch(() => undefined);
  }

  /**
   * Duplicates (in the batch, then against ids the owner sent before) answer "duplicate"; a copy of an id another
   * request is queuing right now answers a retryable 503 (that request may still fail, so "duplicate" would be
   * unsafe, and "accepted" would not say which copy counted); the rest are counted against their decision's bound
   * and queued. Returns the queued events and those over the bound. `marks` holds the originals' marks; cascade
   * shares are marked here (a second round trip, only for cascades).
   */
  private async admit(
    ok: Ready[],
    marks: Map<string, SeenMark>,
    results: ItemResult[],
    oneJob: boolean,
    prefixOf: (index: number) => string,
  ): Promise<{ accepted: Ready[]; over: Ready[]; copies: Copy[] }> {
    // A later copy of an id in this request or group is answered by its first copy's outcome, once known.
    const firstSeen = new Map<string, number>();
    const copies: Copy[] = [];
    const unique = ok.filter((p) => {
      const first = firstSeen.get(p.eventId);
      if (first === undefined) {
        firstSeen.set(p.eventId, p.index);
        return true;
      }
      if (!p.share) copies.push({ index: p.index, callerEventId: p.callerEventId, first });
      return false;
    });
    // Marks of events refused before this point (a failed check) are given back.
    this.giveBack(
      marks,
      [...marks.keys()].filter((id) => !firstSeen.has(id)),
    );
    const shares = unique.filter((p) => p.share).map((p) => p.eventId);
    if (shares.length > 0) {
      try {
        for (const [id, mark] of await this.markSeen(shares)) marks.set(id, mark);
      } catch {
        this.giveBack(marks, firstSeen.keys());
        throw unavailable();
      }
    }
    // An original is queued by the request that holds its mark. A cascade share goes with its own event (not when
    // that one is not queued here: its mark is given back), whoever else holds the share's mark: only a request
    // that holds its original's mark derives it.
    const mark = (p: Ready) => marks.get(p.eventId) ?? 'queued';
    const originalFresh = new Set(unique.filter((p) => !p.share && mark(p) === 'new').map((p) => p.index));
    this.giveBack(
      marks,
      unique.filter((p) => p.share && !originalFresh.has(p.index)).map((p) => p.eventId),
    );
    const candidates = unique.filter((p) => {
      if (p.share) return mark(p) !== 'queued' && originalFresh.has(p.index);
      if (mark(p) === 'queued') results[p.index] = { eventId: p.callerEventId, status: 'duplicate' };
      if (mark(p) === 'busy') results[p.index] = busy(p, prefixOf(p.index));
      return mark(p) === 'new';
    });
    const ids = (events: Ready[]) => events.map((p) => p.eventId);
    let bounded: Awaited<ReturnType<IngestService['bound']>>;
    try {
      bounded = await this.bound(candidates);
    } catch {
      this.giveBack(marks, ids(candidates));
      throw unavailable();
    }
    const { within, over, counted } = bounded;
    this.giveBack(marks, ids(over));
    const unqueued = await this.enqueue(within, oneJob);
    if (unqueued !== null) {
      // Only what is known not to be in the queue gives its mark and its count back (the jobs of a group are
      // added in one pipeline, not atomically: one may be stored while another failed). The rest may be queued:
      // their marks stay pending, left to the next copy at once.
      this.giveBack(marks, ids(unqueued));
      const lost = new Set(unqueued);
      const maybe = ids(within.filter((p) => !lost.has(p) && marks.get(p.eventId) === 'new'));
      if (maybe.length > 0) this.hot.abandonSeen(maybe, this.env.EVENT_DEDUP_TTL_SECONDS, PENDING_STALE_MS).catch(() => undefined);
      const back = new Map<string, number>();
      for (const p of unqueued) {
        const b = boundOf(p);
        if (b !== undefined && counted.has(b)) back.set(b, (back.get(b) ?? 0) + 1);
      }
      await this.hot.uncountEvents(back).catch(() => undefined);
      throw unavailable();
    }
    // Best effort: if Redis fails now, the marks stay pending and a retry queues the events again (harmless).
    await this.hot.confirmSeen(ids(within)).catch(() => undefined);
    return { accepted: within, over, copies };
  }

  /** Splits events into those that fit under their decision's bound and those over it (in request order). */
  private async bound(events: Ready[]): Promise<{ within: Ready[]; over: Ready[]; counted: Map<string, number> }> {
    const wanted = new Map<string, number>();
    for (const p of events) if (p.decisionId !== undefined) wanted.set(boundOf(p)!, (wanted.get(boundOf(p)!) ?? 0) + 1);
    const fits = await this.hot.countEvents(wanted, this.env.MAX_EVENTS_PER_DECISION, this.env.EVENT_DEDUP_TTL_SECONDS);
    const counted = new Map(fits);
    const within: Ready[] = [];
    const over: Ready[] = [];
    const refused = new Set<number>(); // items whose own event is over its bound: their cascade share is refused too
    for (const p of events) {
      if (p.decisionId === undefined) within.push(p);
      else if (p.share && refused.has(p.index)) over.push(p);
      else if ((fits.get(boundOf(p)!) ?? 0) > 0) {
        fits.set(boundOf(p)!, fits.get(boundOf(p)!)! - 1);
        within.push(p);
      } else {
        if (!p.share) refused.add(p.index);
        over.push(p);
      }
    }
    // Slots counted but not used (a share refused with its original): given back.
    const unused = new Map([...fits].filter(([, n]) => n > 0));
    if (unused.size > 0) {
      await this.hot.uncountEvents(unused).catch(() => undefined);
      for (const [id, n] of unused) counted.set(id, (counted.get(id) ?? 0) - n);
    }
    return { within, over, counted };
  }

  /**
   * The events' jobs, in one call (one round trip): with `oneJob`, one job per queue kind present (its id derived
   * from the event ids it carries), else one job per event. Null when every job is in the queue; when the call
   * failed, the events of the jobs that the queue does not hold (a job it cannot be asked about counts as held).
   */
  private async enqueue(events: Ready[], oneJob: boolean): Promise<Ready[] | null> {
    if (events.length === 0) return null;
    const jobs = queueJobs(events, oneJob, oneJob && this.workers.takesMixedEvents);
    try {
      await this.queue.addBulk(jobs.map((j) => j.job));
      return null;
    } catch {
      const held = await Promise.all(
        jobs.map((j) =>
          this.queue.getJob(j.job.opts.jobId!).then(
            (job) => job !== undefined,
            () => true,
          ),
        ),
      );
      return jobs.filter((_, i) => !held[i]).flatMap((j) => j.events);
    }
  }
}

/**
 * The jobs carrying `events`: with `oneJob`, one per queue kind present (one job for them all when there are several
 * kinds and `mixed`: every worker takes MIXED_EVENTS), a kind with a single event in its own single-event job; else
 * one per event. A job that carries several events has an id derived from their ids.
 */
function queueJobs(events: Ready[], oneJob: boolean, mixed: boolean): { job: QueuedJob; events: Ready[] }[] {
  const byKind = new Map<EventJobKind, Ready[]>();
  for (const p of events) {
    const queued = EVENT_KINDS[p.kind];
    const list = byKind.get(queued);
    if (list) list.push(p);
    else byKind.set(queued, [p]);
  }
  const jobId = (prefix: Parameters<typeof jobIdFor>[0], list: Ready[]) =>
    jobIdFor(
      prefix,
      createHash('sha256')
        .update(list.map((p) => p.eventId).join('\n'))
        .digest('base64url'),
    );
  if (mixed && byKind.size > 1) {
    const data = mixedJobPayload(events.map(kindedItem));
    return [{ job: { name: MIXED_EVENTS.name, data, opts: { ...JOB_OPTIONS, jobId: jobId(MIXED_EVENTS.idPrefix, events) } }, events }];
  }
  return [...byKind].flatMap(([queued, list]): { job: QueuedJob; events: Ready[] }[] => {
    const { one, many } = JOB_KINDS[queued];
    if (list.length === 1 || !oneJob)
      return list.map((p) => ({ job: { name: one.name, data: p.job, opts: { ...JOB_OPTIONS, jobId: jobIdFor(one.idPrefix, p.eventId) } }, events: [p] }));
    const data = batchJobPayload(
      queued,
      list.map((p) => p.job),
    );
    return [{ job: { name: many.name, data, opts: { ...JOB_OPTIONS, jobId: jobId(many.idPrefix, list) } }, events: list }];
  });
}

/** An event as the queue carries it: its queue kind and its job item. */
function kindedItem(p: Ready): KindedItem<EventJobKind> {
  return p.kind === 'energy' ? { kind: 'energy', data: p.job } : { kind: 'feedback', data: p.job };
}

/** A later copy of an event id in the same request or group (`first`: the index of its first copy). */
interface Copy {
  index: number;
  callerEventId: string;
  first: number;
}

/**
 * A copy's answer, from its first copy's: `duplicate` when that one is queued or was before; else the same refusal
 * (a retryable 503, a 409 …), its field paths under the copy's own prefix.
 */
function asCopy(first: ItemResult, copy: Copy, firstPrefix: string, copyPrefix: string): ItemResult {
  if (first.status !== 'rejected') return { eventId: copy.callerEventId, status: 'duplicate' };
  const path = (p: string) => (p.startsWith(firstPrefix) ? copyPrefix + p.slice(firstPrefix.length) : p);
  return { ...first, index: copy.index, problem: { ...first.problem, errors: first.problem.errors.map((e) => ({ ...e, path: path(e.path) })) } };
}

/** A copy of an event id that another request holds the pending mark of: try again shortly. */
function busy(p: Ready, prefix: string): ItemResult {
  return {
    index: p.index,
    status: 'rejected',
    problem: {
      status: 503,
      detail: `event ${p.callerEventId} is being queued by another request; retry to learn whether it was accepted`,
      errors: [{ path: `${prefix}eventId`, message: 'another request with this event id is under way' }],
      retryAfterSeconds: BUSY_RETRY_AFTER_S,
    },
  };
}

/**
 * The error code of a single event's refusal: its own when it names one, else its status, and for a 404 what was
 * not found (a model or a decision).
 */
function codeOf({ status, code, errors }: ItemProblem) {
  if (code) return code;
  switch (status) {
    case 503:
      return 'UNAVAILABLE' as const;
    case 403:
      return 'FORBIDDEN' as const;
    case 404:
      return errors[0]?.path === 'model' ? ('MODEL_NOT_FOUND' as const) : ('DECISION_NOT_FOUND' as const);
    case 409:
      return 'EVENT_LIMIT' as const;
    default:
      return 'VALIDATION' as const;
  }
}
