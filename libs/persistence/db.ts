import postgres from 'postgres';

export type Sql = postgres.Sql;

/** One pool per process. TCP_NODELAY is on by default in postgres.js sockets (see ../shared/perf/LIMITS.md §4). */
export function createSql(url: string, max = 10): Sql {
  return postgres(url, {
    max,
    onnotice: () => undefined,
    idle_timeout: 30,
    connect_timeout: 5,
    // Seconds before reconnecting after a failed connection. The library's default grows to 10–20 s while
    // Postgres is away, and every query meanwhile waits for it (readiness, key lookups and the worker's retries
    // stall). Capped at 1 s, a query fails within a second and the pool is back within a second of Postgres.
    backoff: (attempt: number) => (0.5 + Math.random() / 2) * Math.min(1, 0.03 * 2 ** attempt),
    transform: { undefined: null },
    // Plan every execution of a prepared statement for its parameters and the table as it is now. Postgres would
    // otherwise switch a statement to a cached generic plan after five runs; one made while `events` was nearly
    // empty is a sequential scan, and it stays cached until the table is next analyzed (never, with autovacuum
    // off as on this machine; ~1 min with it on). Measured: 144 full scans of `events` a second during a soak at
    // 100 routes/s, Postgres CPU growing 24 % -> 58 % over 270 s; none with this setting.
    connection: { plan_cache_mode: 'force_custom_plan' },
  });
}

/**
 * Id lists shorter than this are looked up as they come. The planner scans instead of probing only while the table
 * holds at most some tens to a hundred rows per id (13 on the test's table, ~100 on the ingest bench's), so such a
 * scan reads at most a few thousand rows: about what the transaction around the statement would cost (two more
 * statements).
 */
export const BY_IDS_MIN = 100;

/**
 * Runs `fn` for a statement that names `count` rows by id (`where id = any($1)`), through the table's index: from
 * {@link BY_IDS_MIN} ids, in a transaction with `set local enable_seqscan = off`. The planner prices an index
 * probe as a disk read (random_page_cost 4), so for a pass's few thousand ids it reads the whole table until the
 * table is many times larger than the list (~400,000 rows for 3,500 ids on the ingest bench), though every page is
 * in memory. Measured on the ingest bench at 20,000 events/s: 94 full scans of `events` in 25 s, up to 107 ms each
 * on a table of 400,000 rows, every one the pass's closing update; none through this.
 */
export function byIds<T>(sql: Sql, count: number, fn: (q: Sql | postgres.TransactionSql) => Promise<T>): Promise<T> {
  if (count < BY_IDS_MIN) return fn(sql);
  return sql.begin(async (tx) => {
    await tx`set local enable_seqscan = off`;
    return fn(tx);
  }) as Promise<T>;
}
