import { type Sql } from './db.js';

export interface DeadLetter {
  /** Names the item, so that it is set aside once however often its job runs (migration 014). */
  key: string;
  kind: string;
  eventId: string | null;
  decisionId: string | null;
  policy: string | null;
  error: string;
  payload: unknown;
}

export interface StoredDeadLetter extends Omit<DeadLetter, 'key'> {
  id: number;
  at: string;
}

/** Bytes any text column accepts: NUL and lone surrogates replaced (the letter may be about exactly those). */
const clean = (s: string | null, max = 2000) => (s === null ? null : s.slice(0, max).toWellFormed().replaceAll('\u0000', '\uFFFD'));

/**
 * Events the worker could not learn because Postgres refuses their data (set aside so that the rest of their
 * batch is learnt at once). The payload is kept as UTF-8 JSON bytes, whatever it holds.
 */
export class DeadLettersRepository {
  constructor(private readonly sql: Sql) {}

  async add(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const rows = letters.map((l) => ({
      letter_key: clean(l.key),
      kind: l.kind,
      event_id: clean(l.eventId),
      decision_id: clean(l.decisionId),
      policy: clean(l.policy),
      error: clean(l.error) ?? '',
      payload: Buffer.from(JSON.stringify(l.payload) ?? 'null', 'utf8'),
    }));
    await this.sql`insert into dead_letters ${this.sql(rows as never)} on conflict (letter_key) do nothing`;
  }

  /** Newest first, optionally for one policy. */
  async list(policy: string | undefined, limit: number): Promise<StoredDeadLetter[]> {
    const rows = await this.sql<
      { id: string; kind: string; event_id: string | null; decision_id: string | null; policy: string | null; error: string; payload: Buffer; at: Date }[]
    >`
      select id, kind, event_id, decision_id, policy, error, payload, at from dead_letters
      where ${policy === undefined ? this.sql`true` : this.sql`policy = ${policy}`}
      order by at desc, id desc limit ${limit}`;
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      eventId: r.event_id,
      decisionId: r.decision_id,
      policy: r.policy,
      error: r.error,
      payload: JSON.parse(r.payload.toString('utf8')) as unknown,
      at: r.at.toISOString(),
    }));
  }

  async count(policy?: string): Promise<number> {
    const [r] = await this.sql<{ n: number }[]>`
      select count(*)::int as n from dead_letters where ${policy === undefined ? this.sql`true` : this.sql`policy = ${policy}`}`;
    return r.n;
  }
}
