// The policy's audit trail (GET …/audit, newest first), with a Revert button on every entry that changed the
// objective: POST …/objective/revert restores the objective that entry replaced, as a new audited change.

import { el, fill, table } from './dom.js';
import { dateTime, num } from './format.js';

/** @typedef {import('./types').AuditEntry} AuditEntry */
/** @typedef {import('./types').Weight} Weight */

const WEIGHTS = /** @type {Weight[]} */ (['quality', 'energy', 'cost', 'latency']);

/**
 * The weights an entry changed, e.g. `energy 0 → 0.5`; empty when it left the objective alone.
 * @param {AuditEntry} a
 */
export function objectiveChange(a) {
  const before = a.before?.objective;
  const after = a.after?.objective;
  if (!before || !after) return [];
  return WEIGHTS.filter((w) => before[w] !== after[w]).map((w) => `${w} ${num(before[w])} → ${num(after[w])}`);
}

/** @param {import('./types').Policy['budget']} b */
function budgetText(b) {
  const limits = [];
  if (b?.energyJoulesPerRequest !== undefined) limits.push(`${num(b.energyJoulesPerRequest)} J`);
  if (b?.costUsdPerRequest !== undefined) limits.push(`${num(b.costUsdPerRequest, 6)} USD`);
  return limits.length ? `${limits.join(' and ')} per request` : 'none';
}

/**
 * What an entry changed, in a few words: the weights, or the budget.
 * @param {AuditEntry} a
 * @param {string[]} weights from objectiveChange
 */
function summary(a, weights) {
  if (weights.length > 0) return weights.join(', ');
  if (a.action === 'budget') return `budget ${budgetText(a.before?.budget)} → ${budgetText(a.after?.budget)}`;
  return '';
}

/**
 * @param {HTMLElement} box
 * @param {AuditEntry[]} entries
 * @param {(entry: AuditEntry) => void} onRevert
 */
export function renderAudit(box, entries, onRevert) {
  if (entries.length === 0) {
    fill(box, el('p', { class: 'muted' }, 'No changes recorded.'));
    return;
  }
  const rows = entries.map((a) => {
    const change = objectiveChange(a);
    let action = /** @type {Node | string} */ ('');
    if (change.length > 0) {
      const b = el('button', { type: 'button', class: 'revert', 'data-audit-id': a.id }, 'Revert');
      b.addEventListener('click', () => onRevert(a));
      action = b;
    }
    return [dateTime(a.at), a.action, a.actor, summary(a, change), action];
  });
  fill(box, table(['when', 'action', 'by', 'change', ''], rows));
}
