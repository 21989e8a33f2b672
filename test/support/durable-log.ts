import type postgres from 'postgres';
import { eventually, settled } from './harness.js';
import { callerEventId } from '@app/contracts';

/**
 * What the fault tests check in Postgres: the durable log holds every decision and accepted event once, all
 * applied, and no accepted event id is missing.
 */
export interface LogCounts {
  decisions: number;
  events: number;
  unapplied: number;
}

export async function logCounts(sql: postgres.Sql): Promise<LogCounts> {
  const [r] = await sql<LogCounts[]>`
    select (select count(*)::int from decisions) as decisions, (select count(*)::int from events) as events,
           (select count(*)::int from events where not applied) as unapplied`;
  return r;
}

/**
 * Waits until the log holds `want` decisions and events, all applied (tolerating a database that is still
 * coming back), checks that it stays so, and returns when it was first reached.
 */
export async function awaitLog(sql: postgres.Sql, want: { decisions: number; events: number }, ms: number): Promise<number> {
  await eventually(
    async () => {
      const c = await logCounts(sql).catch(() => null);
      return c !== null && c.decisions === want.decisions && c.events === want.events && c.unapplied === 0;
    },
    ms,
    100,
  );
  const reachedAt = Date.now();
  expect(await settled(() => logCounts(sql) as Promise<LogCounts & Record<string, unknown>>, ['decisions', 'events', 'unapplied'])).toEqual({
    ...want,
    unapplied: 0,
  });
  return reachedAt;
}

/** How many of the accepted event ids the log does not hold. */
export async function lostEvents(sql: postgres.Sql, accepted: readonly { eventId: string }[]): Promise<number> {
  const stored = new Set((await sql<{ id: string }[]>`select id from events`).map((r) => callerEventId(r.id)));
  return accepted.filter((e) => !stored.has(e.eventId)).length;
}
