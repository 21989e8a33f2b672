import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { DEFAULT_DATABASE_URL } from '../libs/infra/config.js';

/**
 * A small migration runner (the porsager/postgres-shift convention): `migrations/NNN_name.sql`, contiguously
 * numbered, each applied once in its own transaction and recorded in `schema_migrations`. An advisory lock lets
 * several replicas start at once. Never edit an applied file; add the next number.
 */
export async function migrate(databaseUrl: string, dir = defaultDir(), log: (m: string) => void = console.log) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql`select pg_advisory_lock(724041)`;
    await sql`create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const done = new Set((await sql<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version));
    const files = readdirSync(dir)
      .filter((f) => /^\d+_.+\.sql$/.test(f))
      .sort();
    files.forEach((f, i) => {
      if (parseInt(f, 10) !== i + 1) throw new Error(`migrations must be numbered contiguously from 001: ${f}`);
    });
    let applied = 0;
    for (const f of files) {
      const version = parseInt(f, 10);
      if (done.has(version)) continue;
      const body = readFileSync(join(dir, f), 'utf8');
      await sql.begin(async (tx) => {
        await tx.unsafe(body);
        await tx`insert into schema_migrations (version, name) values (${version}, ${f})`;
      });
      log(`migrate: applied ${f}`);
      applied++;
    }
    log(`migrate: ${applied} applied, ${files.length - applied} already present`);
    return applied;
  } finally {
    await sql`select pg_advisory_unlock(724041)`.catch(() => undefined);
    await sql.end();
  }
}

function defaultDir(): string {
  // dist/scripts/migrate.js and scripts/migrate.ts both sit two levels below the repository root.
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${'/'}dist${'/'}`) ? '../..' : '..';
  return resolve(here, up, 'migrations');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  migrate(url).catch((e: unknown) => {
    console.error(`migrate: failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
