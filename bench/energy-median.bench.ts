import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { createSql, EventsRepository } from '@app/persistence';
import { modelReading } from '../libs/persistence/testing/model-reading.js';
import { migrate } from '../scripts/migrate.js';

/**
 * What recomputing a model's energy estimate costs as its readings pile up: the worker recomputes it (the median
 * J per output token of the model's newest 1,000 readings) after every learning pass that holds a reading of that
 * model. Inserts model-level readings into a fresh database in steps, and times the repository's query at each
 * step (median of 5). Prints each step's time and the last step's as a ratio to the first's (near 1 when the query
 * reads only the newest readings).
 * Usage: npm run bench:energy-median [-- readings]   (default 400,000; needs local Postgres)
 */
const [total = 400_000] = process.argv.slice(2).map(Number);
const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const db = `bench_energy_${process.pid}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
await admin.unsafe(`create database ${db}`);
const url = Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
await migrate(url, undefined, () => undefined);
const sql = createSql(url, 2);
const events = new EventsRepository(sql);
const t0 = Date.now() - 1e9;

const reading = (i: number, model: string) => modelReading(`r${model}${i}`, model, 100 + (i % 97), 100 + (i % 13), t0 + i);

async function timeQuery(): Promise<number> {
  const ms: number[] = [];
  for (let k = 0; k < 5; k++) {
    const s = performance.now();
    const got = await events.modelEnergyMedians(['m'], 1000);
    ms.push(performance.now() - s);
    if (got.get('m')?.readings !== 1000) throw new Error('expected an estimate over 1,000 readings');
  }
  return ms.sort((a, b) => a - b)[2];
}

try {
  const steps = [10_000, Math.round(Math.sqrt(10_000 * total)), total];
  const times: number[] = [];
  let n = 0;
  for (const step of steps) {
    for (; n < step; n += 5000) await events.insertMany(Array.from({ length: Math.min(5000, step - n) }, (_, k) => reading(n + k, 'm')));
    await sql`analyze events`;
    times.push(await timeQuery());
    console.log(`${step} readings of the model: estimate recomputed in ${times.at(-1)!.toFixed(2)} ms`);
  }
  console.log(`${total} readings / 10,000: ${(times[times.length - 1] / times[0]).toFixed(2)}x the time`);
} finally {
  await sql.end();
  await admin.unsafe(`drop database if exists ${db} with (force)`);
  await admin.end();
}
