#!/usr/bin/env node
// bandit-router walkthrough: every step of the README's "Walkthrough", against a running service.
//
//   ROUTER_URL=http://127.0.0.1:3000 ADMIN_API_KEY=... node examples/walkthrough.mjs
//
// It registers two models ("small" and "large"), creates the policy "walkthrough" (or empties it if it exists),
// creates a route key for a product, sends 300 routed requests with a quality score and an energy reading each,
// moves the objective towards energy, and reads the statistics. Run it against a test deployment: it replaces
// models and a policy of those names. Plain Node ≥ 20 (global fetch), no dependencies. Exits non-zero on any
// unexpected answer.

const BASE = (process.env.ROUTER_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const ADMIN_KEY = process.env.ADMIN_API_KEY;
const POLICY = process.env.WALKTHROUGH_POLICY ?? 'walkthrough';
if (!ADMIN_KEY) {
  console.error('set ADMIN_API_KEY (and ROUTER_URL if the service is not on http://127.0.0.1:3000)');
  process.exit(2);
}

/** One JSON call; answers the parsed body, or throws with the problem+json the service sent. */
async function call(key, method, path, body, expected = [200]) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!expected.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return { status: res.status, body: json };
}
const admin = (method, path, body, expected) => call(ADMIN_KEY, method, path, body, expected);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (title) => console.log(`\n== ${title}`);

// ── 1. Register the models (the arms). Prices and J per output token are priors; measured readings refine them.
show('1. register models');
for (const [id, config] of [
  ['small', { pricing: { inputPerMTok: 0.05, outputPerMTok: 0.1 }, energy: { joulesPerOutputToken: 0.1 } }],
  ['large', { pricing: { inputPerMTok: 0.5, outputPerMTok: 1.5 }, energy: { joulesPerOutputToken: 0.9 } }],
]) {
  const m = (await admin('PUT', `/admin/models/${id}`, config)).body;
  console.log(`model ${m.id}: ${JSON.stringify({ pricing: m.pricing, energy: m.energy })}`);
}

// ── 2. Create the policy: LinUCB over both models, quality only for now. ε = 0.1 (default 0.02): with only a few
// hundred requests, a larger uniform share makes sure each model is tried on both kinds of prompt.
show('2. create the policy');
const policyConfig = { algorithm: 'linucb', arms: ['small', 'large'], params: { epsilon: 0.1 }, objective: { quality: 1, energy: 0 } };
const created = await admin('PUT', `/admin/policies/${POLICY}`, policyConfig, [200, 201]);
if (created.status === 200) await admin('POST', `/admin/policies/${POLICY}/reset`); // existed: start from empty state
console.log(`policy ${POLICY}: ${created.status === 201 ? 'created' : 'replaced and reset'}, ${JSON.stringify(created.body.objective)}`);

// ── 3. A key for the product: scope "route", this policy only. The secret is shown once.
show('3. create a route key');
const key = (await admin('POST', '/admin/keys', { name: 'walkthrough-app', scope: 'route', policies: [POLICY] }, [201])).body;
console.log(`key ${key.id} (owner ${key.name}, scope ${key.scope}), secret ${key.secret.slice(0, 6)}…`);
const app = (method, path, body, expected) => call(key.secret, method, path, body, expected);
// Every decision made here, so that step 8 can wait until the worker has stored them all.
let routes = 0;
const route = async (input, expected) => {
  const r = await app('POST', '/v1/route', { policy: POLICY, input }, expected);
  if (r.status === 200) routes++;
  return r;
};

// ── 4. Route one request and look at the answer.
show('4. route a request');
let first;
for (let i = 0; ; i++) {
  // Another replica may take up to REFRESH_INTERVAL_MS to see a new policy: 404 until then.
  const r = await route('Solve 3x + 7 = 22 for x', [200, 404]);
  if (r.status === 200) {
    first = r.body;
    break;
  }
  if (i === 50) throw new Error('the policy did not reach the replica');
  await sleep(100);
}
console.log(JSON.stringify(first, null, 2));
// The product's user liked the answer (or not): a thumb for this decision.
const thumb = await app('POST', '/v1/feedback', { decisionId: first.decisionId, thumb: first.model === 'large' ? 'up' : 'down' }, [202]);
console.log(`thumb for ${first.decisionId}: ${JSON.stringify(thumb.body)}`);

// ── 5. Traffic: route, then report how good the answer was and what it cost in energy. Here a grader's score
// in [0, 1] (a thumb works the same: up = 1, down = 0). Simulated ground truth: both models translate well; only
// the large one is good at maths. The large model draws 9x the energy per token.
show('5. route 300 requests, send a score and an energy reading for each');
const PROMPTS = {
  maths: [
    'Solve 3x + 7 = 22 for x',
    'Calculate 17 * 23 - 4',
    'What is the derivative of x^3 + 2x?',
    'How many primes are below 50?',
    'Compute the integral of x^2 from 0 to 3',
    'Prove that the sum of two even numbers is even',
  ],
  translation: [
    'Translate "good morning" in French',
    'Translate "where is the station" in German',
    'Translate "thank you very much" in Spanish',
    'Translate "see you tomorrow" in Italian',
    'Translate "I am hungry" in French',
    'Translate "the bill, please" in German',
  ],
};
const SCORE = { maths: { small: 0.1, large: 0.95 }, translation: { small: 0.95, large: 0.95 } };
const JOULES_PER_TOKEN = { small: 0.1, large: 0.9 };
const ROUNDS = 300;
const routed = { maths: { small: 0, large: 0 }, translation: { small: 0, large: 0 } };
let firstDecision;
for (let i = 0; i < ROUNDS; i++) {
  const task = i % 2 === 0 ? 'maths' : 'translation';
  const input = PROMPTS[task][Math.floor(i / 2) % PROMPTS[task].length];
  const d = (await route(input)).body;
  routed[task][d.model]++;
  firstDecision ??= d.decisionId;
  const outputTokens = 180 + ((i * 37) % 41);
  // Event ids make retries safe: a repeated id answers "duplicate" and is never learnt twice.
  await app('POST', '/v1/feedback', { decisionId: d.decisionId, eventId: `score-${d.decisionId}`, reward: SCORE[task][d.model] }, [202]);
  await app(
    'POST',
    '/v1/energy',
    { decisionId: d.decisionId, eventId: `energy-${d.decisionId}`, joules: JOULES_PER_TOKEN[d.model] * outputTokens, outputTokens },
    [202],
  );
}
console.log(`routed while learning: ${JSON.stringify(routed)}`);
const again = await app('POST', '/v1/feedback', { decisionId: firstDecision, eventId: `score-${firstDecision}`, reward: 1 }, [202]);
console.log(`the first score posted again: ${JSON.stringify(again.body)}`);

// ── 6. Learning is asynchronous: the worker applies events within about a second, then every replica
// recompiles its copy (REFRESH_INTERVAL_MS, STATE_RECOMPILE_MS). Wait until the stats count every event.
show('6. wait until the events are learnt');
const stats = async () => (await admin('GET', `/admin/policies/${POLICY}/stats`)).body;
for (let t0 = Date.now(); ;) {
  const s = await stats();
  // Step 4's thumb counts too; its decision has no energy reading.
  if (s.feedback === ROUNDS + 1 && s.energyReadings === ROUNDS) {
    console.log(`learnt: decisions=${s.decisions} feedback=${s.feedback} energyReadings=${s.energyReadings}`);
    break;
  }
  if (Date.now() - t0 > 30_000) throw new Error(`not learnt after 30 s: ${JSON.stringify(s)}`);
  await sleep(200);
}
await sleep(1500); // every replica recompiles its copy of the policy from the new state

/** Routes each prompt of both tasks `times` times and counts the models chosen. */
async function shares(times = 4) {
  const out = { maths: { small: 0, large: 0 }, translation: { small: 0, large: 0 } };
  for (const task of ['maths', 'translation']) for (let k = 0; k < times; k++) for (const input of PROMPTS[task]) out[task][(await route(input)).body.model]++;
  return out;
}

// ── 7. Move the trade-off: energy now counts. The learnt state is kept; the next decisions use the new weights.
show('7. move the objective towards energy');
const before = await shares();
console.log(`routing with quality only:   ${JSON.stringify(before)}`);
const patched = (await admin('PATCH', `/admin/policies/${POLICY}/objective`, { energy: 0.3 })).body;
console.log(`objective is now ${JSON.stringify(patched.objective)} (policy version ${patched.version})`);
// Wait until the replica serving the key routes with the new version (at once on a single replica).
while ((await route(PROMPTS.translation[0])).body.policyVersion < patched.version) await sleep(100);
const after = await shares();
console.log(`routing with energy 0.3:     ${JSON.stringify(after)}`);

// ── 8. What the policy has learnt, per model (once the worker has stored every decision made above).
show('8. read the statistics');
let s = await stats();
for (let t0 = Date.now(); s.decisions < routes; s = await stats()) {
  if (Date.now() - t0 > 30_000) throw new Error(`${routes} decisions made, ${s.decisions} stored after 30 s`);
  await sleep(200);
}
console.log(`policy ${s.policy} version ${s.version} epoch ${s.epoch}: decisions=${s.decisions} feedback=${s.feedback} energyReadings=${s.energyReadings}`);
for (const a of s.arms)
  console.log(
    `  ${a.model.padEnd(6)} pulls ${String(a.pulls).padStart(4)} (share ${a.share.toFixed(2)})  ` +
      `quality ${a.quality.mean?.toFixed(2) ?? '-'} over ${a.quality.count} scores  ` +
      `energy ${a.energyJoules.mean?.toFixed(1) ?? '-'} J over ${a.energyJoules.count} readings`,
  );
const audit = (await admin('GET', `/admin/policies/${POLICY}/audit`)).body.audit;
const change = audit.find((e) => e.action === 'objective'); // newest first
console.log(`audit: ${change.action} by ${change.actor}: energy ${change.before.objective.energy} -> ${change.after.objective.energy}`);

// ── 9. Revoke the key: every replica refuses it from now on.
show('9. revoke the key');
await admin('DELETE', `/admin/keys/${key.id}`, undefined, [204]);
// The revocation reaches every replica's key cache through Redis within moments.
let refused;
for (let i = 0; (refused = await app('POST', '/v1/route', { policy: POLICY, input: 'hello' }, [200, 401])).status === 200; i++) {
  if (i === 50) throw new Error('the revoked key is still accepted');
  await sleep(100);
}
console.log(`route with the revoked key: 401 ${refused.body.detail}`);
console.log(
  `\nsummary ${JSON.stringify({ policy: POLICY, routes, decisions: s.decisions, pulls: s.arms.reduce((n, a) => n + a.pulls, 0), feedback: s.feedback, energyReadings: s.energyReadings, before, after })}`,
);
