import { z } from 'zod';
import {
  type DecisionRecord,
  decisionRecordSchema,
  type EnergyJob,
  energyJobSchema,
  type FeedbackJob,
  feedbackJobSchema,
  type UsageJob,
  usageJobSchema,
} from './jobs.js';

/** One item of each kind of learning input, as it travels on the queue. */
export interface JobItems {
  decisions: DecisionRecord;
  feedback: FeedbackJob;
  energy: EnergyJob;
  usage: UsageJob;
}
export type JobKind = keyof JobItems;
/** The kinds whose items are events (stored in `events`, one row each). */
export type EventJobKind = Exclude<JobKind, 'decisions'>;

/** An item tagged with its kind: a union discriminated by `kind`. */
export type KindedItem<K extends JobKind = JobKind> = { [P in K]: { kind: P; data: JobItems[P] } }[K];

/**
 * Each stored event kind (`events.kind`) and the queue kind it travels as. A duel's outcome travels as feedback
 * that names a winner: workers of an earlier version, still draining the queue during an upgrade, know only
 * the feedback job names.
 */
export const EVENT_KINDS = { feedback: 'feedback', pairwise: 'feedback', energy: 'energy', usage: 'usage' } as const satisfies Record<string, EventJobKind>;
export type EventKind = keyof typeof EVENT_KINDS;
/** The stored kinds that travel as queue kind K. */
export type EventKindOf<K extends JobKind> = { [E in EventKind]: (typeof EVENT_KINDS)[E] extends K ? E : never }[EventKind];

/** A BullMQ job: its name, and the prefix of its custom id (see jobIdFor). */
export interface QueueJob {
  readonly name: string;
  readonly idPrefix: string;
}

/** How one kind travels and is stored. */
export interface KindSpec<K extends JobKind> {
  /** One item; the worker re-parses every item with it. */
  readonly item: z.ZodType<JobItems[K]>;
  /** The job carrying one item; null when the kind travels in batches only. */
  readonly one: QueueJob | null;
  /** The job carrying many items, as an array under `key` of its payload (see batchContainer). */
  readonly many: QueueJob & { readonly key: string };
  /** The stored event kind of an item; null when the kind is not an event (decisions have their own table). */
  readonly stored: ((item: JobItems[K]) => EventKindOf<K>) | null;
}
type KindSpecs = { readonly [K in JobKind]: KindSpec<K> };

/**
 * The one table of learning inputs: the api's intake and flushers, the queue's job ids, the worker's dispatch
 * and batcher, and the event log's kinds derive from it. Names, prefixes and payload keys are the wire format:
 * jobs queued by an earlier version must still parse.
 */
export const JOB_KINDS = {
  decisions: {
    item: decisionRecordSchema,
    one: null,
    many: { name: 'decisions', idPrefix: 'dec', key: 'decisions' },
    stored: null,
  },
  feedback: {
    item: feedbackJobSchema,
    one: { name: 'feedback', idPrefix: 'fb' },
    many: { name: 'feedback-batch', idPrefix: 'fbb', key: 'events' },
    stored: (f) => (f.winner === undefined ? 'feedback' : 'pairwise'),
  },
  energy: {
    item: energyJobSchema,
    one: { name: 'energy', idPrefix: 'en' },
    many: { name: 'energy-batch', idPrefix: 'enb', key: 'events' },
    stored: () => 'energy',
  },
  usage: {
    item: usageJobSchema,
    // Single usage jobs come from earlier versions only (the proxy now sends batches).
    one: { name: 'usage', idPrefix: 'us' },
    many: { name: 'usage-batch', idPrefix: 'us', key: 'events' },
    stored: () => 'usage',
  },
} as const satisfies KindSpecs;

/** The same table for code generic over the kind (K's spec, correlated with JobItems[K]). */
const SPECS: KindSpecs = JOB_KINDS;

/**
 * The job carrying events of several queue kinds together (a group of single events of different kinds), one array
 * per kind under the kind's name: `{feedback?: […], energy?: […], usage?: […]}`. Workers of an earlier version do not
 * know its name and would fail it, so the api sends it only while every worker of the queue declares that it takes
 * it (WORKER_PROTOCOL).
 */
export const MIXED_EVENTS = { name: 'events-batch', idPrefix: 'evb' } as const satisfies QueueJob;

/**
 * What job names a worker takes, as a number it declares in its BullMQ worker name (`workerNameFor`), which the
 * api reads from Redis's client list: 2 = every kind's jobs and MIXED_EVENTS. Workers that declare nothing take
 * the kinds' own jobs only.
 */
export const WORKER_PROTOCOL = 2;
/** The protocol from which workers take MIXED_EVENTS jobs. */
export const MIXED_EVENTS_PROTOCOL = 2;
/** The BullMQ worker name that declares `protocol`. */
export const workerNameFor = (protocol: number) => `router-worker-p${protocol}`;
/** The protocol a worker's client name declares (BullMQ's `…:w:<worker name>`); 0 when it declares none. */
export function protocolOfWorkerClient(clientName: string | undefined): number {
  const m = /:w:router-worker-p(\d+)$/.exec(clientName ?? '');
  return m ? Number(m[1]) : 0;
}

/** The protocol every worker of a fleet takes, from their client names: the lowest; 0 for no worker. */
export function fleetProtocol(clientNames: readonly (string | undefined)[]): number {
  return clientNames.length === 0 ? 0 : Math.min(...clientNames.map(protocolOfWorkerClient));
}

/** Every custom job id prefix. */
export type JobIdPrefix =
  | { [K in JobKind]: (typeof JOB_KINDS)[K]['many']['idPrefix'] | NonNullable<(typeof JOB_KINDS)[K]['one']>['idPrefix'] }[JobKind]
  | (typeof MIXED_EVENTS)['idPrefix'];

/** Job names: each kind's, and the scheduler's. */
export const JOB = {
  decisions: JOB_KINDS.decisions.many.name,
  feedback: JOB_KINDS.feedback.one.name,
  feedbackBatch: JOB_KINDS.feedback.many.name,
  energy: JOB_KINDS.energy.one.name,
  energyBatch: JOB_KINDS.energy.many.name,
  usage: JOB_KINDS.usage.one.name,
  usageBatch: JOB_KINDS.usage.many.name,
  /** Repeated by a BullMQ job scheduler: apply default rewards of closed feedback windows. */
  sweepDefaults: 'sweep-default-rewards',
} as const;

/** The stored event kind of a queued event. */
export function eventKindOf(e: KindedItem<EventJobKind>): EventKind {
  switch (e.kind) {
    case 'feedback':
      return JOB_KINDS.feedback.stored(e.data);
    case 'energy':
      return JOB_KINDS.energy.stored();
    case 'usage':
      return JOB_KINDS.usage.stored();
  }
}

/** The payload of a job carrying many items of one kind. */
export function batchJobPayload<K extends JobKind>(kind: K, items: readonly JobItems[K][]): Record<string, readonly JobItems[K][]> {
  return { [SPECS[kind].many.key]: items };
}

/** The payload of a MIXED_EVENTS job: each item under its kind's name, in their order. */
export function mixedJobPayload(items: readonly KindedItem<EventJobKind>[]): { [K in EventJobKind]?: JobItems[K][] } {
  const out: { [K in EventJobKind]?: unknown[] } = {};
  for (const it of items) (out[it.kind] ??= []).push(it.data);
  return out as { [K in EventJobKind]?: JobItems[K][] };
}

// The arrays are checked item by item (itemsOf): one malformed item is refused alone, never the tenants' items
// batched beside it.
const mixedJobSchema = z
  .object({ feedback: z.array(z.unknown()).optional(), energy: z.array(z.unknown()).optional(), usage: z.array(z.unknown()).optional() })
  .strict()
  .refine((d) => (d.feedback?.length ?? 0) + (d.energy?.length ?? 0) + (d.usage?.length ?? 0) > 0, 'carries no event');

function parseMixed(data: unknown): ParsedJob {
  const r = mixedJobSchema.safeParse(data);
  if (!r.success) return invalid(r.error);
  const parts = EVENT_KINDS_IN_MIXED.map((kind) => itemsOf(kind, r.data[kind] ?? []));
  return { form: 'many', items: parts.flatMap((p) => p.items), refused: parts.flatMap((p) => p.refused) };
}

const EVENT_KINDS_IN_MIXED = ['feedback', 'energy', 'usage'] as const satisfies readonly EventJobKind[];

/** An item of a batch job that does not parse: set aside alone (the worker dead-letters it), with why. */
export interface RefusedItem {
  kind: JobKind;
  /** Its place among the job's items of its kind. */
  index: number;
  payload: unknown;
  error: string;
}

/** Each of `raw` parsed with its kind's schema: the items that parse, and the ones that do not. */
function itemsOf<K extends JobKind>(kind: K, raw: readonly unknown[]): { items: KindedItem<K>[]; refused: RefusedItem[] } {
  const items: KindedItem<K>[] = [];
  const refused: RefusedItem[] = [];
  for (const [index, payload] of raw.entries()) {
    const r = SPECS[kind].item.safeParse(payload);
    if (r.success) items.push({ kind, data: r.data });
    else refused.push({ kind, index, payload, error: r.error.message });
  }
  return { items, refused };
}

/** The container of a job carrying many items of one kind (at least one); the items are checked one by one (itemsOf). */
function batchContainer(kind: JobKind) {
  return z.object({ [SPECS[kind].many.key]: z.array(z.unknown()).min(1) });
}

/**
 * A job as the worker takes it: a decisions job whole (one entry, bisected if Postgres refuses a row), or events;
 * the items of a batch that do not parse are `refused`, the others go on.
 */
export type ParsedJob<K extends EventJobKind = EventJobKind> =
  | { form: 'decisions'; decisions: DecisionRecord[]; refused: RefusedItem[] }
  | { form: 'one'; item: KindedItem<K> }
  | { form: 'many'; items: KindedItem<K>[]; refused: RefusedItem[] }
  | { form: 'invalid'; error: string }
  | { form: 'unknown' };

const invalid = (error: z.ZodError): { form: 'invalid'; error: string } => ({ form: 'invalid', error: error.message });

function eventRoutes<K extends EventJobKind>(kind: K): [string, (data: unknown) => ParsedJob<K>][] {
  const spec = SPECS[kind];
  const container = batchContainer(kind);
  const many = (data: unknown): ParsedJob<K> => {
    const r = container.safeParse(data);
    return r.success ? { form: 'many', ...itemsOf(kind, r.data[spec.many.key]) } : invalid(r.error);
  };
  if (!spec.one) return [[spec.many.name, many]];
  const one = (data: unknown): ParsedJob<K> => {
    const r = spec.item.safeParse(data);
    return r.success ? { form: 'one', item: { kind, data: r.data } } : invalid(r.error);
  };
  return [
    [spec.one.name, one],
    [spec.many.name, many],
  ];
}

const decisionsContainer = batchContainer('decisions');
const ROUTES = new Map<string, (data: unknown) => ParsedJob>([
  [
    JOB_KINDS.decisions.many.name,
    (data) => {
      const r = decisionsContainer.safeParse(data);
      if (!r.success) return invalid(r.error);
      const { items, refused } = itemsOf('decisions', r.data[JOB_KINDS.decisions.many.key]);
      return { form: 'decisions', decisions: items.map((i) => i.data), refused };
    },
  ],
  ...eventRoutes('feedback'),
  ...eventRoutes('energy'),
  ...eventRoutes('usage'),
  [MIXED_EVENTS.name, parseMixed],
]);

/** Parses a job of one of the kinds by its name; `unknown` for any other name. */
export function parseJob(name: string, data: unknown): ParsedJob {
  return ROUTES.get(name)?.(data) ?? { form: 'unknown' };
}
