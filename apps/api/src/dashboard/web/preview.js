// The weight slider: moving it asks POST …/evaluate what that weight would have done on the logged decisions
// (estimate and 95% interval beside the logged value, the shares it would route, warnings); Apply sets it with
// PATCH …/objective (audited).

import { api } from './api.js';
import { byId, el, fill, table } from './dom.js';
import { HEADS, interval, num } from './format.js';
import { showError, showInfo } from './status.js';

/** @typedef {import('./types').Policy} Policy */
/** @typedef {import('./types').Weight} Weight */
/** @typedef {import('./types').HeadName} HeadName */

const DEBOUNCE_MS = 250;
/** The slider's range when the current weight is within it (weights go up to 1000; a larger current one extends it). */
const SLIDER_MAX = 5;

export class Preview {
  /** @param {(policy: Policy) => void} onApplied */
  constructor(onApplied) {
    this.onApplied = onApplied;
    this.slider = byId('slider', HTMLInputElement);
    this.value = byId('slider-value', HTMLOutputElement);
    this.out = byId('preview', HTMLElement);
    this.apply = byId('apply', HTMLButtonElement);
    /** @type {Policy | null} */
    this.policy = null;
    /** @type {Weight} */
    this.weight = 'energy';
    /** Answers to older slider positions are dropped. */
    this.seq = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.slider.addEventListener('input', () => this.moved());
    this.apply.addEventListener('click', () => void this.applyWeight());
  }

  /**
   * Puts the slider at the policy's current weight.
   * @param {Policy} policy
   * @param {Weight} weight
   */
  show(policy, weight) {
    this.policy = policy;
    this.weight = weight;
    this.seq++;
    clearTimeout(this.timer);
    const current = policy.objective[weight];
    this.slider.max = String(Math.max(SLIDER_MAX, current));
    this.slider.value = String(current);
    this.value.value = `${weight} ${num(current)} (current)`;
    this.apply.disabled = true;
    this.out.dataset.state = 'idle';
    fill(this.out, el('p', { class: 'muted' }, `Move the slider to preview another ${weight} weight on the logged decisions.`));
  }

  moved() {
    const v = Number(this.slider.value);
    this.value.value = `${this.weight} ${num(v)}`;
    this.apply.disabled = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.evaluate(v), DEBOUNCE_MS);
  }

  /** @param {number} v */
  async evaluate(v) {
    const p = this.policy;
    if (!p) return;
    const mine = ++this.seq;
    this.out.dataset.state = 'loading';
    try {
      const e = await api.evaluate(p.name, { [this.weight]: v });
      if (mine !== this.seq) return;
      this.render(e, v);
      this.out.dataset.state = 'ready';
      this.out.dataset.value = String(v);
      this.apply.disabled = v === p.objective[this.weight];
    } catch (err) {
      if (mine !== this.seq) return;
      this.out.dataset.state = 'error';
      showError(err);
    }
  }

  /**
   * @param {import('./types').Evaluation} e
   * @param {number} v
   */
  render(e, v) {
    const heads = /** @type {HeadName[]} */ (Object.keys(HEADS));
    const rows = heads.map((h) => [
      HEADS[h].label + (HEADS[h].unit ? ` (${HEADS[h].unit})` : ''),
      interval(e.logged[h], HEADS[h].digits),
      interval(e.candidate[h], HEADS[h].digits),
    ]);
    const shares = Object.entries(e.candidate.shares).map(([m, s]) => `${m} ${num(100 * s, 1)} %`);
    fill(
      this.out,
      table(['head', 'logged (now)', `${this.weight} = ${num(v)}: estimate [95% CI]`], rows),
      el('p', {}, `Would route: ${shares.join(' · ') || '–'}`),
      el(
        'p',
        { class: 'muted' },
        `${e.n} logged decisions, effective sample size ${num(e.effectiveSampleSize, 1)}; doubly robust estimates, bootstrap intervals.`,
      ),
      e.warnings.length ? el('ul', { class: 'warnings' }, ...e.warnings.map((w) => el('li', {}, w))) : el('p', { class: 'good' }, 'No warnings.'),
    );
  }

  async applyWeight() {
    const p = this.policy;
    if (!p) return;
    const v = Number(this.slider.value);
    this.apply.disabled = true;
    try {
      const updated = await api.patchObjective(p.name, { [this.weight]: v });
      showInfo(`${p.name}: ${this.weight} weight set to ${num(v)} (version ${updated.version}, audited).`);
      this.onApplied(updated);
    } catch (err) {
      this.apply.disabled = false;
      showError(err);
    }
  }
}
