// The banner above the panels: what the last action did, or the API's error (its problem `detail` and fields).

import { ApiError } from './api.js';
import { byId, el, fill } from './dom.js';

/** @param {unknown} err */
export function showError(err) {
  const box = byId('status', HTMLElement);
  box.className = 'status error';
  if (err instanceof ApiError) {
    fill(box, el('strong', {}, `${err.status}: `), err.message, ...err.errors.map((e) => el('span', { class: 'field' }, `${e.path}: ${e.message}`)));
  } else {
    fill(box, el('strong', {}, 'Error: '), err instanceof Error ? err.message : String(err));
  }
  box.hidden = false;
}

/** @param {string} message */
export function showInfo(message) {
  const box = byId('status', HTMLElement);
  box.className = 'status info';
  fill(box, message);
  box.hidden = false;
}

export function clearStatus() {
  byId('status', HTMLElement).hidden = true;
}
