import { createHash, randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { batchJobPayload, type DecisionRecord, EVENT_KINDS, type EventAck, id, JOB_KINDS, ownedEventId, type Principal, QUEUE_NAME } from '@app/contracts';
import { DomainError, type FieldError } from '@app/errors';
import { CONFIG, JOB_OPTIONS, jobIdFor } from '@app/infra';
import { DecisionHotStore } from '@app/store';
import { type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';
import { DecisionLookup } from '../routing/decision-lookup.service.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import { issuesToErrors } from '../validation.js';
import { GroupCommit } from './group-commit.js';
import { cascadeShares, checkAgainstDecision, type IntakeKind, parseEvent, type Prepared } from './event-intake.js';

export type ItemResult = EventAck | { index: number; status: 'rejected'; problem: { status: number; detail: string; errors: FieldError[] } };
/** An event that may be queued; `share`: what a cascade's feedback also teaches (cascadeShares), answered through its original. */
type Ready = Prepared & { late: boolean; share?: true };
/** One event as submitted: its caller, its body, where its field paths start, and its caller-side id rule. */
interface Entry {
  caller: Principal;
  raw: unknown;
  prefix: string;
  callerId: (given?: string) => string;
}
/** The most single events one group carries (a group is one queued job). */
const GROUP_MAX = 500;

const RETRY_AFTER_S = 5;
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
const unavailable = (what = 'the event queue is unavailable; retry later') => new DomainError('UNAVAILABLE', what, [], RETRY_AFTER_S);

/**
 * Feedback and energy readings: validate → check the decision exists and belongs to the caller's owner →
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
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

  /** Single events of each kind, committed in groups (one Redis pass and one queued job per group). */
  private readonly groups = new Map<IntakeKind, GroupCommit<Entry, ItemResult>>();

  /** One event: errors are thrown (4xx problem). With group commit on, it is queued with its neighbours in time. */
  async one(kind: IntakeKind, caller: Principal, body: unknown, idempotencyKey?: string): Promise<EventAck> {
    checkIdempotencyKey(idempotencyKey);
    const entry: Entry = { caller, raw: body, prefix: '', callerId: (given) => given ?? idempotencyKey ?? `ev_${randomUUID()}` };
    const r = this.env.INGEST_GROUP_COMMIT_MS < 0 ? (await this.process(kind, [entry], false))[0] : await this.group(kind).submit(entry);
    if ('problem' in r) throw new DomainError(codeOf(r.problem.status), r.problem.detail, r.problem.errors);
    return r;
  }

  /** A batch: every item gets its own answer; invalid items do not stop the valid ones. */
  async many(kind: IntakeKind, caller: Principal, items: unknown[], idempotencyKey: string | undefined): Promise<ItemResult[]> {
    checkIdempotencyKey(idempotencyKey);
    const entries = items.map((raw, index): Entry => ({
      caller,
      raw,
      prefix: `events.${index}.`,
      callerId: (given) => given ?? (idempotencyKey ? `${idempotencyKey}:${index}` : `ev_${randomUUID()}`),
    }));
    return this.process(kind, entries, true);
  }

  private group(kind: IntakeKind): GroupCommit<Entry, ItemResult> {
    let g = this.groups.get(kind);
    if (!g) this.groups.set(kind, (g = new GroupCommit((entries) => this.process(kind, entries, true), this.env.INGEST_GROUP_COMMIT_MS, GROUP_MAX)));
    return g;
  }

  /**
   * Events (each with its own caller) → their answers, in order. `oneJob`: the accepted events go to the queue
   * as one job (a batch, or a group of single events); otherwise one job per event.
   */
  private async process(kind: IntakeKind, entries: Entry[], oneJob: boolean): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array<ItemResult>(entries.length);
    const reject = (index: number, status: number, detail: string, errors: FieldError[]) => {
      const prefix = entries[index].prefix;
      results[index] = { index, status: 'rejected', problem: { status, detail, errors: errors.map((e) => ({ ...e, path: prefix + e.path })) } };
    };
    const now = Date.now();
    const prepared: Prepared[] = [];
    entries.forEach(({ caller, raw, callerId }, index) => {
      const p = parseEvent(kind, raw, index, now, (given) => ownedEventId(caller.owner, callerId(given)), callerId);
      if ('problem' in p) reject(index, p.problem.status, p.problem.detail, p.problem.errors);
      else prepared.push(p);
    });

    const found = await this.lookup.find([...new Set(prepared.flatMap((p) => (p.decisionId ? [p.decisionId] : [])))]);
    const ok: Ready[] = [];
    for (const p of prepared) {
      const dec = p.decisionId === undefined ? undefined : found.get(p.decisionId);
      const problem = checkAgainstDecision(entries[p.index].caller, p, dec, (m) => this.cache.model(m) !== undefined);
      if (problem) reject(p.index, problem.status, problem.detail, problem.errors);
      else {
        const late = dec !== undefined && this.isLate(dec, now);
        ok.push({ ...p, late });
        for (const share of cascadeShares(p, dec)) ok.push({ ...share, late, share: true });
      }
    }

    const queued = await this.admit(kind, ok, results, oneJob);
    for (const p of queued.over)
      if (!p.share)
        reject(p.index, 409, `decision ${p.decisionId} has had the most events one decision may have (${this.env.MAX_EVENTS_PER_DECISION})`, [
          { path: 'decisionId', message: 'too many events for this decision' },
        ]);
    for (const p of queued.accepted) {
      if (p.share) continue;
      results[p.index] = { eventId: p.callerEventId, status: p.late ? 'late' : 'accepted' };
      if (p.kind === 'feedback' && !p.late) this.metrics.rewards.inc({ policy: found.get(p.decisionId)?.policy ?? 'unknown' }, p.job.reward);
      if (p.kind === 'energy') this.metrics.energy.inc(p.job.joules);
    }
    for (const r of results) if (r) this.metrics.feedback.inc({ kind, status: r.status });
    return results;
  }

  private isLate(dec: DecisionRecord, now: number): boolean {
    const window = this.cache.get(dec.policy)?.policy.feedback.windowSeconds ?? Infinity;
    return now > dec.createdAt + window * 1000;
  }

  /**
   * Duplicates (in the batch, then against ids the owner sent before) answer "duplicate"; the rest are counted
   * against their decision's bound and queued. Returns the queued events and those over the bound.
   */
  private async admit(kind: IntakeKind, ok: Ready[], results: ItemResult[], oneJob: boolean): Promise<{ accepted: Ready[]; over: Ready[] }> {
    const firstSeen = new Set<string>();
    const unique = ok.filter((p) => {
      if (!firstSeen.has(p.eventId)) return firstSeen.add(p.eventId);
      if (!p.share) results[p.index] = { eventId: p.callerEventId, status: 'duplicate' };
      return false;
    });
    if (unique.length === 0) return { accepted: [], over: [] };
    let fresh: boolean[];
    try {
      fresh = await this.hot.markSeen(
        unique.map((p) => p.eventId),
        this.env.EVENT_DEDUP_TTL_SECONDS,
      );
    } catch {
      throw unavailable();
    }
    // A cascade share goes with its own event: not when that one is a duplicate (its mark is given back).
    const originalFresh = new Set(unique.filter((p, i) => fresh[i] && !p.share).map((p) => p.index));
    const orphaned = unique.filter((p, i) => fresh[i] && p.share && !originalFresh.has(p.index));
    if (orphaned.length > 0) await this.hot.unmarkSeen(orphaned.map((p) => p.eventId)).catch(() => undefined);
    const candidates = unique.filter((p, i) => {
      if (!fresh[i] && !p.share) results[p.index] = { eventId: p.callerEventId, status: 'duplicate' };
      return fresh[i] && (!p.share || originalFresh.has(p.index));
    });
    const { within, over, counted } = await this.bound(candidates);
    try {
      if (over.length > 0) await this.hot.unmarkSeen(over.map((p) => p.eventId));
      await this.enqueue(kind, within, oneJob);
    } catch {
      await this.hot.unmarkSeen(within.map((p) => p.eventId)).catch(() => undefined);
      await this.hot.uncountEvents(counted).catch(() => undefined);
      throw unavailable();
    }
    // Best effort: if Redis fails now, the marks stay pending and a retry queues the events again (harmless).
    await this.hot.confirmSeen(within.map((p) => p.eventId)).catch(() => undefined);
    return { accepted: within, over };
  }

  /** Splits events into those that fit under their decision's bound and those over it (in request order). */
  private async bound(events: Ready[]): Promise<{ within: Ready[]; over: Ready[]; counted: Map<string, number> }> {
    const wanted = new Map<string, number>();
    for (const p of events) if (p.decisionId !== undefined) wanted.set(p.decisionId, (wanted.get(p.decisionId) ?? 0) + 1);
    let fits: Map<string, number>;
    try {
      fits = await this.hot.countEvents(wanted, this.env.MAX_EVENTS_PER_DECISION, this.env.EVENT_DEDUP_TTL_SECONDS);
    } catch {
      await this.hot.unmarkSeen(events.map((p) => p.eventId)).catch(() => undefined);
      throw unavailable();
    }
    const counted = new Map(fits);
    const within: Ready[] = [];
    const over: Ready[] = [];
    const refused = new Set<number>(); // items whose own event is over its bound: their cascade share is refused too
    for (const p of events) {
      if (p.decisionId === undefined) within.push(p);
      else if (p.share && refused.has(p.index)) over.push(p);
      else if ((fits.get(p.decisionId) ?? 0) > 0) {
        fits.set(p.decisionId, fits.get(p.decisionId)! - 1);
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

  private async enqueue(kind: IntakeKind, events: Ready[], oneJob: boolean): Promise<void> {
    if (events.length === 0) return;
    const queued = EVENT_KINDS[kind];
    const { one, many } = JOB_KINDS[queued];
    if (events.length === 1 || !oneJob) {
      await this.queue.addBulk(events.map((p) => ({ name: one.name, data: p.job, opts: { ...JOB_OPTIONS, jobId: jobIdFor(one.idPrefix, p.eventId) } })));
      return;
    }
    // One job for the batch or group; its id is derived from the event ids it carries.
    const digest = createHash('sha256')
      .update(events.map((p) => p.eventId).join('\n'))
      .digest('base64url');
    await this.queue.add(
      many.name,
      batchJobPayload(
        queued,
        events.map((p) => p.job),
      ),
      { ...JOB_OPTIONS, jobId: jobIdFor(many.idPrefix, digest) },
    );
  }
}

function codeOf(status: number) {
  switch (status) {
    case 403:
      return 'FORBIDDEN' as const;
    case 404:
      return 'DECISION_NOT_FOUND' as const;
    case 409:
      return 'EVENT_LIMIT' as const;
    default:
      return 'VALIDATION' as const;
  }
}
