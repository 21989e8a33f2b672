// The admin API calls the dashboard makes. Every call carries the signed-in key as a Bearer header; an error
// answer becomes an ApiError with the problem's `detail` and field errors, for the page to show.

import { adminKey } from './session.js';

/** @typedef {import('./types').Policy} Policy */
/** @typedef {import('./types').Objective} Objective */
/** @typedef {import('./types').Weight} Weight */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {{ path: string, message: string }[]} errors
   */
  constructor(status, detail, errors) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }
}

/** @param {string} text */
function parse(text) {
  try {
    return /** @type {unknown} */ (JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * @param {Response} res
 * @param {unknown} body
 */
function problem(res, body) {
  const p = /** @type {{ detail?: unknown, title?: unknown, errors?: unknown } | null} */ (typeof body === 'object' ? body : null);
  const detail = typeof p?.detail === 'string' ? p.detail : typeof p?.title === 'string' ? p.title : `${res.status} ${res.statusText}`;
  const errors = Array.isArray(p?.errors) ? /** @type {{ path: string, message: string }[]} */ (p.errors) : [];
  return new ApiError(res.status, detail, errors);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>} the parsed JSON answer
 */
async function call(method, path, body) {
  const key = adminKey();
  if (!key) throw new ApiError(401, 'sign in with an admin key', []);
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await res.text();
  const json = text ? parse(text) : null;
  if (!res.ok) throw problem(res, json);
  return json;
}

/** @param {string} name */
const policyPath = (name) => `/admin/policies/${encodeURIComponent(name)}`;

// The answers are the API's documented shapes (types.d.ts), taken as they come.
export const api = {
  policies: async () => /** @type {{ policies: Policy[] }} */ (await call('GET', '/admin/policies')).policies,
  /** @param {string} name */
  policy: async (name) => /** @type {Policy} */ (await call('GET', policyPath(name))),
  /** @param {string} name */
  stats: async (name) => /** @type {import('./types').Stats} */ (await call('GET', `${policyPath(name)}/stats`)),
  /** @param {string} name */
  audit: async (name) => /** @type {{ audit: import('./types').AuditEntry[] }} */ (await call('GET', `${policyPath(name)}/audit`)).audit,
  models: async () => /** @type {{ models: import('./types').Model[] }} */ (await call('GET', '/admin/models')).models,
  /**
   * @param {string} name
   * @param {{ from: Date, to: Date, bucket: string }} range
   */
  timeseries: async (name, range) => {
    const q = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString(), bucket: range.bucket });
    return /** @type {import('./types').Timeseries} */ (await call('GET', `${policyPath(name)}/timeseries?${q.toString()}`));
  },
  /**
   * What a changed objective would have done on the logged decisions.
   * @param {string} name
   * @param {Partial<Objective>} objective
   */
  evaluate: async (name, objective) =>
    /** @type {import('./types').Evaluation} */ (await call('POST', `${policyPath(name)}/evaluate`, { candidate: { objective } })),
  /**
   * @param {string} name
   * @param {Weight} weight
   * @param {number[]} values
   */
  frontier: async (name, weight, values) => /** @type {import('./types').Frontier} */ (await call('POST', `${policyPath(name)}/frontier`, { weight, values })),
  /**
   * @param {string} name
   * @param {Partial<Objective>} objective
   */
  patchObjective: async (name, objective) => /** @type {Policy} */ (await call('PATCH', `${policyPath(name)}/objective`, objective)),
  /**
   * @param {string} name
   * @param {string} auditId
   */
  revertObjective: async (name, auditId) => /** @type {Policy} */ (await call('POST', `${policyPath(name)}/objective/revert`, { auditId })),
};
