// The panels that are tables and figures rather than charts: budget status, model health, feedback totals.

import { el, fill, table } from './dom.js';
import { dateTime, duration, num } from './format.js';

/** @typedef {import('./types').Policy} Policy */

const BUDGETS = {
  costUsdPerRequest: { label: 'cost per request', unit: 'USD', digits: 6 },
  energyJoulesPerRequest: { label: 'energy per request', unit: 'J', digits: 2 },
};

/**
 * Each limit of the policy's budget: the limit, the mean per request since it was set, and the dual price.
 * @param {HTMLElement} box
 * @param {import('./types').BudgetStatus[]} budgets from GET …/stats
 */
export function renderBudget(box, budgets) {
  if (budgets.length === 0) {
    fill(box, el('p', { class: 'muted' }, 'No budget on this policy.'));
    return;
  }
  const rows = budgets.map((b) => {
    const f = BUDGETS[b.budget];
    const over = b.meanPerRequest !== null && b.meanPerRequest > b.limit;
    return [
      f.label,
      `${num(b.limit, f.digits)} ${f.unit}`,
      el('span', { class: over ? 'bad' : 'good' }, b.meanPerRequest === null ? '–' : `${num(b.meanPerRequest, f.digits)} ${f.unit}`),
      String(b.requests),
      num(b.price, 4),
    ];
  });
  fill(box, table(['budget', 'limit', 'mean per request', 'requests', 'price μ'], rows));
}

/**
 * The circuit breaker of each arm (shared by all replicas; GET /admin/models).
 * @param {HTMLElement} box
 * @param {Policy} policy
 * @param {import('./types').Model[]} models
 */
export function renderHealth(box, policy, models) {
  const byId = new Map(models.map((m) => [m.id, m]));
  const rows = policy.arms.map((arm) => {
    const m = byId.get(arm);
    if (!m) return [arm, 'not registered', '–', '–'];
    const state = m.enabled ? m.breaker.state : 'disabled';
    return [
      arm,
      el('span', { class: `breaker ${state}` }, state),
      String(m.breaker.failures),
      m.breaker.openedAt ? dateTime(new Date(m.breaker.openedAt).toISOString()) : '–',
    ];
  });
  fill(box, table(['model', 'breaker', 'consecutive failures', 'opened at'], rows));
}

/**
 * Totals of the range: how many decisions got feedback, and how long it took on average.
 * @param {HTMLElement} box
 * @param {{ decisions: number, feedback: number, meanLagMs: number | null }} t
 */
export function renderFeedbackTotals(box, t) {
  const share = t.decisions ? `${num((100 * t.feedback) / t.decisions, 1)} %` : '–';
  fill(
    box,
    el('span', { class: 'figure' }, el('b', {}, `${t.feedback} / ${t.decisions}`), ' decisions with feedback'),
    el('span', { class: 'figure' }, el('b', {}, share), ' coverage'),
    el('span', { class: 'figure' }, el('b', {}, duration(t.meanLagMs)), ' mean lag'),
  );
}
