import { createRng, type Rng } from '@app/bandits';
import { client, eventually, freshEnvironment, type Running, settled, startService } from '../support/harness.js';
import { recordFaultResult } from '../support/fold.js';
import { isOpenAiPath } from '../../apps/api/src/errors/problem.filter.js';

/**
 * DESIGN.md §4: bad input never yields a 5xx, never crashes a process, never changes learning state (issue 5,
 * scenario 6). Two api replicas and two workers run in this process on one Redis prefix and one database; the
 * several-process scenario is test/e2e/replicas.e2e.spec.ts.
 */
describe('guarantees: hostile input against two replicas', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let a: Running;
  let b: Running;
  let adminA: ReturnType<typeof client>;
  let adminB: ReturnType<typeof client>;

  beforeAll(async () => {
    env = await freshEnvironment('guar');
    a = await startService(env, 1);
    b = await startService(env, 1);
    adminA = client(a.url);
    adminB = client(b.url);
    for (const m of ['m1', 'm2', 'm3']) expect((await adminA.put(`/admin/models/${m}`, { energy: { joulesPerOutputToken: 0.1 } })).status).toBe(200);
    expect((await adminA.put('/admin/policies/shared', { algorithm: 'linucb', arms: ['m1', 'm2', 'm3'] })).status).toBe(201);
    await eventually(async () => (await adminB.post('/v1/route', { policy: 'shared', input: 'warm-up' })).status === 200);
  });

  afterAll(async () => {
    await b.close();
    await a.close();
    await env.drop();
  });

  it('10,000 generated malformed or adversarial requests across every endpoint: no 5xx, no crash, no state change', async () => {
    const other = (await adminA.post('/admin/keys', { name: 'other-owner', scope: 'route' })).body.secret as string;
    const routeKey = (await adminA.post('/admin/keys', { name: 'route-only', scope: 'route', policies: ['shared'] })).body.secret as string;
    const stats = async () => (await adminA.get('/admin/policies/shared/stats')).body;
    // Start from a settled state: earlier routes (possibly on the other replica) may still be in flight.
    const quiet = () => settled(stats, ['decisions', 'feedback', 'energyReadings'], 500);
    const n0 = (await quiet()).decisions as number;
    const mine = (await adminA.post('/v1/route', { policy: 'shared', input: 'owned by admin' })).body.decisionId as string;
    await eventually(async () => (await stats()).decisions >= n0 + 1);
    const before = await quiet();
    const keysBefore = (await adminA.get('/admin/keys')).body;
    const rng = createRng(2026);
    const gen = hostile(rng, mine);
    const clients = [client(a.url), client(b.url), client(a.url, other), client(b.url, routeKey), client(a.url, ''), client(a.url, 'forged-key')];
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    let worst = 0;
    for (let i = 0; i < 10_000; i++) {
      const req = gen();
      const c = clients[rng.int(clients.length)];
      const r = await c.call(req.method, req.path, req.body, req.headers);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status < 400)
        accepted.push(`${r.status} ${req.method} ${req.path} ${String(typeof req.body === 'string' ? req.body : JSON.stringify(req.body)).slice(0, 120)}`);
      worst = Math.max(worst, r.status);
      if (r.status >= 500)
        throw new Error(
          `5xx for ${req.method} ${req.path} ${String(typeof req.body === 'string' ? req.body : JSON.stringify(req.body)).slice(0, 200)}: ${JSON.stringify(r.body).slice(0, 300)}`,
        );
      // Our paths answer problem+json; the OpenAI-compatible ones OpenAI's error envelope.
      const documented = isOpenAiPath(req.path)
        ? typeof r.body?.error?.message === 'string' && typeof r.body.error.type === 'string'
        : String(r.headers.get('content-type')).includes('application/problem+json');
      if (r.status >= 400 && !documented)
        throw new Error(
          `not the documented error shape: ${r.status} for ${req.method} ${req.path} ${String(JSON.stringify(req.body)).slice(0, 200)}: ${JSON.stringify(r.body).slice(0, 300)}`,
        );
    }
    expect(accepted.slice(0, 5)).toEqual([]);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    // Both replicas still answer, and nothing was learnt, created or changed.
    expect((await adminA.get('/health/live')).status).toBe(200);
    expect((await adminB.get('/health/live')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 800));
    const after = (await adminA.get('/admin/policies/shared/stats')).body;
    expect({ decisions: after.decisions, feedback: after.feedback, energy: after.energyReadings, version: after.version }).toEqual({
      decisions: before.decisions,
      feedback: before.feedback,
      energy: before.energyReadings,
      version: before.version,
    });
    expect((await adminA.get('/admin/keys')).body).toEqual(keysBefore);
    expect(worst).toBeLessThan(500);
    recordFaultResult({
      scenario: '6. hostile input',
      injected:
        "10,000 generated requests on every endpoint (wrong types, NaN/Infinity literals, broken and 3,000-deep JSON, lone surrogates and NULs in ids, forged ids, other owners' decisions, admin calls with route keys, no key)",
      events: 10_000,
      lost: 0,
      duplicated: 0,
      maxLagMs: null,
      duringFault: `all 4xx in the documented error shape (${[...statuses]
        .sort((x, y) => x[0] - y[0])
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}), no 5xx, stats and keys unchanged`,
    });
  }, 300_000);
});

interface HostileRequest {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

/**
 * Requests that must all be refused: every one is malformed (wrong types, unknown fields, NaN/Infinity
 * literals, broken or deeply nested JSON, unicode edge cases in ids), forged (unknown or replayed-but-invalid
 * event ids, other owners' decisions) or not allowed (admin calls with a route key, no key).
 */
function hostile(rng: Rng, mine: string): () => HostileRequest {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const weird = [
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\u202e',
    '🙂'.repeat(40),
    'x'.repeat(200),
    '../../etc/passwd',
    '"quoted"',
    '<script>',
    'a\nb',
    '%00',
    'Ｆｕｌｌｗｉｄｔｈ',
  ];
  // Names that are not valid ids (a valid one, e.g. '../x', would legitimately create a policy or model).
  const badIds = weird.filter((w) => !/^[A-Za-z0-9._:@/-]{1,128}$/.test(w));
  // Invalid for every field they are put in (a reward, joules, an input, a message list …).
  const badValues: unknown[] = [null, true, [], {}, -1, 1e308, 'NaN', 'Infinity', '1', [1, 2], { $gt: 0 }, 'x'.repeat(5000)];
  const json = (v: unknown) => JSON.stringify(v);
  // A lone surrogate cannot be percent-encoded: send an invalid UTF-8 escape instead (hostile in its own way).
  const seg = (v: string) => {
    try {
      return encodeURIComponent(v);
    } catch {
      return '%ED%A0%80';
    }
  };
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const raw = [
    '{"policy":',
    '{"decisionId":"x","reward":NaN}',
    '{"decisionId":"x","joules":Infinity}',
    '{"decisionId":"x","joules":1e999}',
    `[${'['.repeat(3000)}${']'.repeat(3000)}]`,
    deep(2000),
    'null',
    '[]',
    '"string"',
    '{"policy":"shared","input":"\\ud800"', // truncated
    '\u0000\u0001',
  ];
  const makers: (() => HostileRequest)[] = [
    // route: wrong types, unknown fields, bad candidates, wrong modes, unknown policies
    () => ({ method: 'POST', path: '/v1/route', body: { policy: 'shared', input: pick(badValues.filter((v) => typeof v !== 'string')) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/route', body: { policy: pick(weird), input: 'x' }, headers: {} }),
    () => ({
      method: 'POST',
      path: '/v1/route',
      body: { policy: 'shared', input: 'x', [pick(['extra', 'prototype', 'constructor'])]: pick(badValues) },
      headers: {},
    }),
    () => ({ method: 'POST', path: '/v1/route', body: { policy: 'shared', input: 'x', candidates: [pick(weird)] }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/route', body: { policy: 'shared', input: 'x', mode: pick(['duel', 'trio', 1]) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/route', body: { policy: 'shared', features: pick(badValues) }, headers: {} }),
    // feedback / energy / pairwise: forged ids, bad values, another owner's decision
    () => ({ method: 'POST', path: '/v1/feedback', body: { decisionId: `dec_${pick(weird)}`, thumb: 'up' }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/feedback', body: { decisionId: mine, reward: pick(badValues) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/feedback', body: { decisionId: mine, thumb: pick(['sideways', 1, null]) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/feedback', body: { decisionId: mine, eventId: pick(weird.filter(Boolean)), thumb: 'up', reward: 1 }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/feedback/pairwise', body: { decisionId: mine, winner: pick(weird) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/energy', body: { decisionId: mine, joules: pick(badValues) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/energy', body: { model: pick(weird), joules: 1 }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/feedback/batch', body: { events: pick([[], 'x', null, Array.from({ length: 1001 }, () => ({}))]) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/energy/batch', body: { events: pick([{}, 1, null]) }, headers: {} }),
    // proxy
    () => ({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: pick(['gpt-4', 'router/', `router/${pick(weird)}`, 7]), messages: [{ role: 'user', content: 'x' }] },
      headers: {},
    }),
    () => ({ method: 'POST', path: '/v1/chat/completions', body: { model: 'router/shared', messages: pick(badValues) }, headers: {} }),
    () => ({ method: 'POST', path: '/v1/embeddings', body: { model: pick(['gpt-4', 'router/shared', 'm1 ', '', 7, null]), input: 'x' }, headers: {} }),
    () => ({
      method: 'POST',
      path: '/v1/embeddings',
      body: { model: 'm1', input: pick([null, true, [], {}, -1, 1e308, { $gt: 0 }, [{}], [[1.5]], [null]]) },
      headers: {},
    }),
    // admin writes with bad bodies (and, from route keys, forbidden)
    () => ({ method: 'PUT', path: `/admin/policies/${seg(pick(badIds))}`, body: { algorithm: 'linucb', arms: ['m1'] }, headers: {} }),
    () => ({ method: 'PUT', path: '/admin/policies/shared', body: { algorithm: pick(['magic', 1, null]), arms: ['m1'] }, headers: {} }),
    () => ({
      method: 'PATCH',
      path: '/admin/policies/shared/objective',
      body: { [pick(['energy', 'cost', 'quality'])]: pick([-1, 'x', null, 1e9]) },
      headers: {},
    }),
    () => ({ method: 'PATCH', path: '/admin/policies/shared/objective', body: pick([{}, { bogus: 1 }, []]), headers: {} }),
    () => ({
      method: 'POST',
      path: '/admin/policies/shared/prior',
      body: { records: pick([[], [{ input: 'x', model: 'ghost', score: 1 }], [{ input: 'x', model: 'm1', score: 7 }]]) },
      headers: {},
    }),
    () => ({ method: 'PUT', path: `/admin/models/${seg(pick(badIds))}`, body: { pricing: { inputPerMTok: -1, outputPerMTok: 1 } }, headers: {} }),
    () => ({ method: 'PUT', path: '/admin/models/m1', body: { baseUrl: pick(['not a url', 5, 'ftp://']) }, headers: {} }),
    () => ({ method: 'POST', path: '/admin/keys', body: { name: pick(weird), scope: pick(['root', 1, null]) }, headers: {} }),
    () => ({ method: 'DELETE', path: `/admin/keys/${seg(pick(weird.filter(Boolean)))}`, body: undefined, headers: {} }),
    () => ({ method: 'DELETE', path: '/admin/models/m1', body: undefined, headers: {} }), // in use: 409 (or 401/403)
    // raw bodies: broken, NaN/Infinity literals, deep nesting, wrong content types
    () => ({
      method: 'POST',
      path: pick(['/v1/route', '/v1/feedback', '/v1/energy', '/v1/chat/completions', '/v1/embeddings', '/admin/policies/shared/prior']),
      body: pick(raw),
      headers: {},
    }),
    () => ({
      method: 'POST',
      path: '/v1/route',
      body: json({ policy: 'shared', input: 'x' }),
      headers: { 'content-type': pick(['text/plain', 'application/xml', 'multipart/form-data']) },
    }),
    () => ({ method: pick(['GET', 'DELETE', 'PUT']), path: pick(['/v1/route', '/v1/feedback']), body: undefined, headers: {} }),
  ];
  return () => makers[rng.int(makers.length)]();
}
