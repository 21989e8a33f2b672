import postgres from 'postgres';

export type Sql = postgres.Sql;

/** One pool per process. TCP_NODELAY is on by default in postgres.js sockets (see ../shared/perf/LIMITS.md §4). */
export function createSql(url: string, max = 10): Sql {
  return postgres(url, {
    max,
    onnotice: () => undefined,
    idle_timeout: 30,
    connect_timeout: 5,
    transform: { undefined: null },
  });
}
