import { createSql, DeadLettersRepository, EventsRepository, type Sql } from '@app/persistence';
import { DecisionHotStore, ModelEnergyStore } from '@app/store';
import { ModelEnergyEstimator, MODEL_ENERGY_WINDOW } from '@app/ingest';
import { Redis } from 'ioredis';
import { modelReading } from '../../libs/persistence/testing/model-reading.js';
import { freshEnvironment, REDIS_URL } from '../support/harness.js';

const reading = modelReading;

describe('model energy estimates, dead letters and per-decision event bounds (real Postgres and Redis)', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let sql: Sql;
  let redis: Redis;
  let events: EventsRepository;

  beforeAll(async () => {
    env = await freshEnvironment('readings');
    sql = createSql(env.databaseUrl, 2);
    redis = new Redis(REDIS_URL);
    events = new EventsRepository(sql);
  });
  afterAll(async () => {
    await sql.end();
    await redis.quit();
    await env.drop();
  });

  it('estimates each model by the median J/token of its newest readings; a removed reading leaves it', async () => {
    const t = Date.now() - 1e6;
    await events.insertMany([
      reading('a1', 'a', 10, 100, t),
      reading('a2', 'a', 30, 100, t + 1),
      reading('a3', 'a', 1e6, 1000, t + 2),
      reading('b1', 'b', 5, 10, t),
    ]);
    const store = new ModelEnergyStore(redis, env.prefix);
    const estimator = new ModelEnergyEstimator(events, store);
    expect(await store.read()).toBeNull();
    await estimator.refresh(null);
    expect(Object.fromEntries((await store.read()) ?? [])).toEqual({
      a: { joulesPerOutputToken: 0.3, readings: 3 },
      b: { joulesPerOutputToken: 0.5, readings: 1 },
    });
    expect(await events.removeModelReading('a3')).toBe('a');
    expect(await events.removeModelReading('a3')).toBeNull();
    expect(await events.removeModelReading('b1')).toBe('b');
    await estimator.refresh(['a', 'b']);
    expect(Object.fromEntries((await store.read()) ?? [])).toEqual({ a: { joulesPerOutputToken: 0.2, readings: 2 } });
    // Only the newest MODEL_ENERGY_WINDOW readings count: older ones age out of the estimate.
    const rows = Array.from({ length: MODEL_ENERGY_WINDOW }, (_, i) => reading(`c${i}`, 'c', 1, 1, t + 10 + i));
    await events.insertMany([reading('c-old-1', 'c', 900, 1, t), reading('c-old-2', 'c', 900, 1, t), ...rows]);
    expect((await events.modelEnergyMedians(['c'], MODEL_ENERGY_WINDOW)).get('c')).toEqual({ joulesPerOutputToken: 1, readings: MODEL_ENERGY_WINDOW });
    expect((await events.listModelReadings('a', 10)).map((r) => r.id)).toEqual(['a2', 'a1']);
  });

  it('keeps dead letters whatever bytes they hold, listed newest first and counted per policy', async () => {
    const letters = new DeadLettersRepository(sql);
    await letters.add([
      {
        key: 'event:energy:o|x\u0000',
        kind: 'energy',
        eventId: 'o|x\u0000',
        decisionId: 'd1',
        policy: 'p',
        error: 'unsupported Unicode escape sequence \ud800',
        payload: { gpu: 'h\u0000', lone: '\ud800' },
      },
      { key: 'event:feedback:o|y', kind: 'feedback', eventId: 'o|y', decisionId: 'd2', policy: 'q', error: 'index row size', payload: { eventId: 'y' } },
    ]);
    expect([await letters.count(), await letters.count('p'), await letters.count('nope')]).toEqual([2, 1, 0]);
    // The same item set aside again (its job ran again), alone or twice in one call: still one letter.
    const again = { key: 'event:feedback:o|y', kind: 'feedback', eventId: 'o|y', decisionId: 'd2', policy: 'q', error: 'again', payload: {} };
    await letters.add([again, again]);
    expect(await letters.count()).toBe(2);
    const [newest, older] = await letters.list(undefined, 10);
    expect(newest.kind).toBe('feedback');
    expect(older).toMatchObject({ kind: 'energy', eventId: 'o|x\uFFFD', policy: 'p', payload: { gpu: 'h\u0000', lone: '\ud800' } }); // the payload exactly as it came
  });

  it('bounds the events counted per decision, also under concurrent callers', async () => {
    const hot = new DecisionHotStore(redis, env.prefix);
    const fits = await Promise.all(Array.from({ length: 20 }, () => hot.countEvents(new Map([['dx', 7]]), 50, 60)));
    // One atomic script call per decision: together they take exactly the limit.
    expect(fits.reduce((s, m) => s + m.get('dx')!, 0)).toBe(50);
    expect(
      (
        await hot.countEvents(
          new Map([
            ['dx', 1],
            ['dy', 3],
          ]),
          50,
          60,
        )
      ).get('dy'),
    ).toBe(3);
    await hot.uncountEvents(new Map([['dy', 3]]));
    expect((await hot.countEvents(new Map([['dy', 50]]), 50, 60)).get('dy')).toBe(50);
  });
});
