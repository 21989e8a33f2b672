import { createHash, randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import {
  type DecisionRecord,
  energySchema,
  type EventAck,
  feedbackSchema,
  JOB,
  pairwiseSchema,
  type Principal,
  QUEUE_NAME,
} from '@app/contracts';
import { DomainError, type FieldError } from '@app/errors';
import { CONFIG, JOB_OPTIONS, jobIdFor } from '@app/infra';
import { DecisionsRepository } from '@app/persistence';
import { DecisionHotStore } from '@app/store';
import { type Queue } from 'bullmq';
import { type ApiEnv } from '../config.js';
import { OwedHotCopies } from '../routing/owed-hot-copies.service.js';
import { PolicyCache } from '../routing/policy-cache.service.js';
import { MetricsService } from '../proxy/metrics.service.js';
import { issuesToErrors } from '../validation.js';

type Kind = 'feedback' | 'energy' | 'pairwise';
export type ItemResult = EventAck | { index: number; status: 'rejected'; problem: { status: number; detail: string; errors: FieldError[] } };

interface Prepared {
  index: number;
  eventId: string;
  decisionId?: string;
  job: Record<string, unknown>;
}

const RETRY_AFTER_S = 5;

/**
 * Feedback and energy readings: validate → check the decision exists and belongs to the caller's owner →
 * answer "duplicate" for an event id seen before → enqueue one BullMQ job per event (job id from the event id)
 * → 202. Nothing here touches learning state; the worker does, exactly once.
 */
@Injectable()
export class IngestService {
  constructor(
    @InjectQueue(QUEUE_NAME) private readonly queue: Queue,
    private readonly hot: DecisionHotStore,
    private readonly decisions: DecisionsRepository,
    private readonly owed: OwedHotCopies,
    private readonly cache: PolicyCache,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly env: ApiEnv,
  ) {}

  /** One event: errors are thrown (4xx problem). */
  async one(kind: Kind, caller: Principal, body: unknown, idempotencyKey?: string): Promise<EventAck> {
    const [r] = await this.many(kind, caller, [body], idempotencyKey, false);
    if ('problem' in r) throw new DomainError(r.problem.status === 404 ? 'DECISION_NOT_FOUND' : 'VALIDATION', r.problem.detail, r.problem.errors);
    return r;
  }

  /** A batch: every item gets its own answer; invalid items do not stop the valid ones. */
  async many(kind: Kind, caller: Principal, items: unknown[], idempotencyKey: string | undefined, batch = true): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array(items.length);
    const prepared: Prepared[] = [];
    const now = Date.now();
    const reject = (index: number, status: number, detail: string, errors: FieldError[]) => {
      const prefix = batch ? `events.${index}.` : '';
      results[index] = { index, status: 'rejected', problem: { status, detail, errors: errors.map((e) => ({ ...e, path: prefix + e.path })) } };
    };
    items.forEach((raw, index) => {
      const eventIdOf = (given?: string) => given ?? (idempotencyKey ? (batch ? `${idempotencyKey}:${index}` : idempotencyKey) : `ev_${randomUUID()}`);
      if (kind === 'pairwise') {
        const r = pairwiseSchema.safeParse(raw);
        if (!r.success) return reject(index, 400, 'invalid pairwise feedback', issuesToErrors(r.error.issues));
        const f = r.data;
        const eventId = eventIdOf(f.eventId);
        // reward (P(first model won)) is set once the decision's pair is known, below.
        prepared.push({ index, eventId, decisionId: f.decisionId, job: { eventId, decisionId: f.decisionId, reward: 0, winner: f.winner, receivedAt: now } });
      } else if (kind === 'feedback') {
        const r = feedbackSchema.safeParse(raw);
        if (!r.success) return reject(index, 400, 'invalid feedback', issuesToErrors(r.error.issues));
        const f = r.data;
        const eventId = eventIdOf(f.eventId);
        const reward = f.reward ?? (f.thumb === 'up' ? 1 : 0);
        prepared.push({ index, eventId, decisionId: f.decisionId, job: { eventId, decisionId: f.decisionId, reward, receivedAt: now } });
      } else {
        const r = energySchema.safeParse(raw);
        if (!r.success) return reject(index, 400, 'invalid energy reading', issuesToErrors(r.error.issues));
        const e = r.data;
        const eventId = eventIdOf(e.eventId);
        prepared.push({ index, eventId, decisionId: e.decisionId, job: { ...e, eventId, receivedAt: now } });
      }
    });

    // Join with decisions: hot copies first, Postgres for older ones. Another owner's decision is "not found".
    const ids = [...new Set(prepared.flatMap((p) => (p.decisionId ? [p.decisionId] : [])))];
    const found = await this.lookup(ids);
    const ok: (Prepared & { late: boolean })[] = [];
    for (const p of prepared) {
      if (p.decisionId === undefined) {
        const model = (p.job as { model?: string }).model!;
        if (!this.cache.model(model)) {
          reject(p.index, 404, `model ${model} is not registered`, [{ path: 'model', message: 'unknown model' }]);
          continue;
        }
        ok.push({ ...p, late: false });
        continue;
      }
      const dec = found.get(p.decisionId);
      if (!dec || (caller.scope !== 'admin' && dec.owner !== caller.owner)) {
        reject(p.index, 404, `decision ${p.decisionId} not found`, [{ path: 'decisionId', message: 'unknown decision' }]);
        continue;
      }
      if (kind === 'pairwise') {
        const pair = dec.mode === 'duel' ? dec.arms : undefined;
        if (!pair || pair.length !== 2) {
          reject(p.index, 400, `decision ${p.decisionId} is not a duel; post /v1/feedback for it`, [{ path: 'decisionId', message: 'not a duel' }]);
          continue;
        }
        const winner = (p.job as { winner: string }).winner;
        if (winner !== 'tie' && !pair.includes(winner)) {
          reject(p.index, 400, `winner must be ${pair[0]}, ${pair[1]} or "tie"`, [{ path: 'winner', message: `one of ${pair.join(', ')}, tie` }]);
          continue;
        }
        (p.job as { reward: number }).reward = winner === 'tie' ? 0.5 : winner === pair[0] ? 1 : 0;
      } else if (kind === 'energy' && dec.mode === 'duel') {
        // A duel ran two models: a reading must say which one it measured.
        const model = (p.job as { model?: string }).model;
        if (!model || !dec.arms?.includes(model)) {
          reject(p.index, 400, `decision ${p.decisionId} is a duel: name the measured model (${dec.arms?.join(' or ')})`, [{ path: 'model', message: `one of ${dec.arms?.join(', ')}` }]);
          continue;
        }
      } else if (dec.mode !== 'single') {
        reject(p.index, 400, `decision ${p.decisionId} is a ${dec.mode}; post pairwise feedback for it`, [{ path: 'decisionId', message: 'wrong mode' }]);
        continue;
      }
      const window = this.cache.get(dec.policy)?.policy.feedback.windowSeconds ?? Infinity;
      ok.push({ ...p, late: Date.now() > dec.createdAt + window * 1000 });
    }

    // Duplicates in the batch itself, then against event ids accepted before.
    const firstSeen = new Map<string, number>();
    const unique = ok.filter((p) => {
      if (firstSeen.has(p.eventId)) {
        results[p.index] = { eventId: p.eventId, status: 'duplicate' };
        return false;
      }
      firstSeen.set(p.eventId, p.index);
      return true;
    });
    if (unique.length > 0) {
      let fresh: boolean[];
      try {
        fresh = await this.hot.markSeen(unique.map((p) => p.eventId), this.env.EVENT_DEDUP_TTL_SECONDS);
      } catch {
        throw new DomainError('UNAVAILABLE', 'the event queue is unavailable; retry later', [], RETRY_AFTER_S);
      }
      const toQueue = unique.filter((p, i) => {
        if (!fresh[i]) results[p.index] = { eventId: p.eventId, status: 'duplicate' };
        return fresh[i];
      });
      try {
        if (toQueue.length === 1 || !batch) {
          await this.queue.addBulk(
            toQueue.map((p) => ({
              name: kind === 'energy' ? JOB.energy : JOB.feedback,
              data: p.job,
              opts: { ...JOB_OPTIONS, jobId: jobIdFor(kind === 'energy' ? 'en' : 'fb', p.eventId) },
            })),
          );
        } else if (toQueue.length > 1) {
          // One job for the batch; its id is derived from the event ids it carries.
          const digest = createHash('sha256').update(toQueue.map((p) => p.eventId).join('\n')).digest('base64url');
          await this.queue.add(kind === 'energy' ? JOB.energyBatch : JOB.feedbackBatch, { events: toQueue.map((p) => p.job) }, {
            ...JOB_OPTIONS,
            jobId: jobIdFor(kind === 'energy' ? 'enb' : 'fbb', digest),
          });
        }
      } catch {
        await this.hot.unmarkSeen(toQueue.map((p) => p.eventId)).catch(() => undefined);
        throw new DomainError('UNAVAILABLE', 'the event queue is unavailable; retry later', [], RETRY_AFTER_S);
      }
      // Best effort: if Redis fails now, the marks stay pending and a retry queues the events again (harmless).
      await this.hot.confirmSeen(toQueue.map((p) => p.eventId)).catch(() => undefined);
      for (const p of toQueue) {
        results[p.index] = { eventId: p.eventId, status: p.late ? 'late' : 'accepted' };
        const job = p.job as { reward?: number; joules?: number };
        if (kind === 'feedback' && !p.late) this.metrics.rewards.inc({ policy: found.get(p.decisionId!)?.policy ?? 'unknown' }, job.reward ?? 0);
        if (kind === 'energy') this.metrics.energy.inc(job.joules ?? 0);
      }
    }
    for (const r of results) if (r) this.metrics.feedback.inc({ kind, status: r.status });
    return results;
  }

  private async lookup(ids: string[]): Promise<Map<string, DecisionRecord>> {
    const out = new Map<string, DecisionRecord>();
    if (ids.length === 0) return out;
    let hot: (DecisionRecord | null)[];
    try {
      hot = await this.hot.getMany(ids);
    } catch {
      throw new DomainError('UNAVAILABLE', 'the event queue is unavailable; retry later', [], RETRY_AFTER_S);
    }
    const missing: string[] = [];
    for (const [i, id] of ids.entries()) {
      // Routed here while Redis was away: write its hot copy now, before feedback for it is queued.
      const owed = hot[i] ? undefined : this.owed.get(id);
      if (owed) {
        try {
          await this.owed.settle(id);
        } catch {
          throw new DomainError('UNAVAILABLE', 'the event queue is unavailable; retry later', [], RETRY_AFTER_S);
        }
      }
      const rec = hot[i] ?? owed;
      if (rec) out.set(id, rec);
      else missing.push(id);
    }
    if (missing.length > 0) {
      try {
        for (const [id, rec] of await this.decisions.getMany(missing)) out.set(id, rec);
      } catch {
        throw new DomainError('UNAVAILABLE', 'cannot look decisions up right now; retry later', [], RETRY_AFTER_S);
      }
    }
    return out;
  }
}
