// The dashboard page: sign in with an admin key, pick a policy, and every panel loads from the admin API.

import { api, ApiError } from './api.js';
import { renderAudit } from './audit.js';
import { colorAt, feedbackChart, frontierChart, timeChart } from './charts.js';
import { byId, el, fill } from './dom.js';
import { bucketLabel, num } from './format.js';
import { renderBudget, renderFeedbackTotals, renderHealth } from './panels.js';
import { Preview } from './preview.js';
import { bucketGrid, bucketSeconds, feedbackSeries, feedbackTotals, perModel, shares } from './series.js';
import { adminKey, signIn, signOut } from './session.js';
import { clearStatus, showError, showInfo } from './status.js';

/** @typedef {import('./types').Policy} Policy */
/** @typedef {import('./types').Weight} Weight */
/** @typedef {import('./types').HeadName} HeadName */

/** Range choices: span and bucket width. */
const RANGES = /** @type {Record<string, { seconds: number, bucket: string }>} */ ({
  '15m': { seconds: 900, bucket: '1m' },
  '1h': { seconds: 3600, bucket: '1m' },
  '6h': { seconds: 6 * 3600, bucket: '5m' },
  '24h': { seconds: 86_400, bucket: '15m' },
  '7d': { seconds: 7 * 86_400, bucket: '1h' },
});
/** The weights the frontier and the slider move, and the head each one trades quality against. */
const TRADE_OFFS = /** @type {Record<string, { head: HeadName, label: string, unit: string }>} */ ({
  energy: { head: 'energyJoules', label: 'energy', unit: 'J' },
  cost: { head: 'costUsd', label: 'cost', unit: 'USD' },
  latency: { head: 'latencyMs', label: 'latency', unit: 'ms' },
});
const FRONTIER_VALUES = [0, 0.1, 0.25, 0.5, 1, 2, 5];

const ui = {
  signin: byId('signin', HTMLElement),
  signinForm: byId('signin-form', HTMLFormElement),
  key: byId('key', HTMLInputElement),
  app: byId('app', HTMLElement),
  policy: byId('policy', HTMLSelectElement),
  range: byId('range', HTMLSelectElement),
  weight: byId('weight', HTMLSelectElement),
  summary: byId('policy-summary', HTMLElement),
};
const preview = new Preview((p) => void load(p.name));

/** @type {Policy | null} the policy shown */
let shown = null;
/** @type {Map<string, string>} the colour of each arm of the shown policy */
let colors = new Map();
const colorOf = (/** @type {string} */ model) => colors.get(model) ?? colorAt(colors.size);

/**
 * Shows an error in the banner; a refused key sends the user back to sign in.
 * @param {unknown} err
 */
function fail(err) {
  showError(err);
  if (err instanceof ApiError && err.status === 401) {
    signOut();
    ui.app.hidden = true;
    ui.signin.hidden = false;
  }
}

/**
 * Runs one panel's loading; its failure is shown and the other panels go on.
 * @param {() => Promise<void>} task
 */
async function panel(task) {
  try {
    await task();
  } catch (err) {
    fail(err);
  }
}

/** @param {Policy} p */
function renderSummary(p) {
  const weights = /** @type {Weight[]} */ (['quality', 'energy', 'cost', 'latency']).map((w) => `${w} ${num(p.objective[w])}`);
  fill(
    ui.summary,
    el('span', {}, el('b', {}, p.name), ` · ${p.algorithm} over ${p.arms.join(', ')}`),
    el('span', {}, `objective: ${weights.join(' · ')}`),
    el('span', { class: 'muted' }, `version ${p.version}, epoch ${p.epoch}`),
  );
}

/** @param {string} name */
async function loadCharts(name) {
  const r = RANGES[ui.range.value] ?? RANGES['1h'];
  const to = new Date();
  const ts = await api.timeseries(name, { from: new Date(to.getTime() - r.seconds * 1000), to, bucket: r.bucket });
  const grid = bucketGrid(ts);
  const labels = grid.map((t) => bucketLabel(t, bucketSeconds(ts)));
  const canvas = (/** @type {string} */ id) => byId(id, HTMLCanvasElement);
  timeChart(canvas('chart-share'), labels, shares(ts, grid), { unit: '% of decisions', color: colorOf, stacked: true, max: 100 });
  timeChart(
    canvas('chart-quality'),
    labels,
    perModel(ts, grid, (p) => p.meanReward),
    { unit: 'mean reward', color: colorOf },
  );
  timeChart(
    canvas('chart-energy'),
    labels,
    perModel(ts, grid, (p) => p.energyJoules),
    { unit: 'J per request', color: colorOf },
  );
  timeChart(
    canvas('chart-cost'),
    labels,
    perModel(ts, grid, (p) => p.costUsd),
    { unit: 'USD per request', color: colorOf },
  );
  timeChart(
    canvas('chart-latency'),
    labels,
    perModel(ts, grid, (p) => p.latencyMs),
    { unit: 'ms', color: colorOf },
  );
  feedbackChart(canvas('chart-feedback'), labels, feedbackSeries(ts, grid));
  renderFeedbackTotals(byId('feedback-totals', HTMLElement), feedbackTotals(ts.points));
}

/** @param {Policy} p */
async function loadFrontier(p) {
  const weight = /** @type {Weight} */ (ui.weight.value);
  const values = [...new Set([...FRONTIER_VALUES, p.objective[weight]])].sort((a, b) => a - b);
  const f = await api.frontier(p.name, weight, values);
  frontierChart(byId('chart-frontier', HTMLCanvasElement), f, TRADE_OFFS[weight]);
  /** @type {Map<string, string[]>} each warning, with the weights it was given for */
  const warnings = new Map();
  for (const pt of f.points) for (const w of pt.warnings) warnings.set(w, [...(warnings.get(w) ?? []), num(pt.value)]);
  fill(byId('frontier-warnings', HTMLElement), ...[...warnings].map(([w, at]) => el('li', {}, `${weight} = ${at.join(', ')}: ${w}`)));
}

/** @param {string} name */
async function revert(name, /** @type {import('./types').AuditEntry} */ entry) {
  try {
    const p = await api.revertObjective(name, entry.id);
    showInfo(`${name}: objective change ${entry.id} reverted (version ${p.version}, audited).`);
    await load(name);
  } catch (err) {
    fail(err);
  }
}

/**
 * Loads every panel of a policy.
 * @param {string} name
 */
async function load(name) {
  ui.app.dataset.state = 'loading';
  history.replaceState(null, '', `#${encodeURIComponent(name)}`);
  await panel(async () => {
    const p = await api.policy(name);
    shown = p;
    colors = new Map(p.arms.map((a, i) => [a, colorAt(i)]));
    renderSummary(p);
    preview.show(p, /** @type {Weight} */ (ui.weight.value));
    await Promise.all([
      panel(() => loadCharts(name)),
      panel(() => loadFrontier(p)),
      panel(async () => renderAudit(byId('audit', HTMLElement), await api.audit(name), (a) => void revert(name, a))),
      panel(async () => renderBudget(byId('budget', HTMLElement), (await api.stats(name)).budgets)),
      panel(async () => renderHealth(byId('health', HTMLElement), p, await api.models())),
    ]);
  });
  ui.app.dataset.state = 'ready';
}

/** After sign-in: the policy list, then the chosen policy (the one in the URL's fragment, else the first). */
async function enter() {
  const policies = await api.policies();
  ui.signin.hidden = true;
  ui.app.hidden = false;
  fill(ui.policy, ...policies.map((p) => el('option', { value: p.name }, p.name)));
  if (policies.length === 0) {
    showInfo('No policies yet: create one with PUT /admin/policies/{name}.');
    return;
  }
  const wanted = decodeURIComponent(location.hash.slice(1));
  ui.policy.value = policies.some((p) => p.name === wanted) ? wanted : policies[0].name;
  await load(ui.policy.value);
}

ui.signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  clearStatus();
  signIn(ui.key.value.trim());
  ui.key.value = '';
  enter().catch(fail);
});
byId('signout', HTMLButtonElement).addEventListener('click', () => {
  signOut();
  location.reload();
});
byId('refresh', HTMLButtonElement).addEventListener('click', () => void load(ui.policy.value));
ui.policy.addEventListener('change', () => {
  clearStatus();
  void load(ui.policy.value);
});
ui.range.addEventListener('change', () => void panel(() => loadCharts(ui.policy.value)));
ui.weight.addEventListener('change', () => {
  if (!shown) return;
  preview.show(shown, /** @type {Weight} */ (ui.weight.value));
  void panel(() => loadFrontier(/** @type {Policy} */ (shown)));
});

if (adminKey()) enter().catch(fail);
