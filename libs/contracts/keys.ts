import { z } from 'zod';
import { finite, id } from './finite.js';
import { instant } from './instant.js';
import { isEscalationPolicyName, routerPolicyName } from './cascade.js';

/** route: route, feedback, energy, proxy. telemetry: energy readings only (any owner's decisions, model-level readings). */
export const SCOPES = ['route', 'telemetry', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * A key's limits, enforced by the api across replicas (fixed windows: a minute, a UTC day). Requests are counted
 * when admitted; tokens and USD when a call's usage is known, so the request that crosses a limit completes and
 * the next ones are refused.
 */
export const keyLimitsSchema = z.strictObject({
  requestsPerMinute: z.int().min(1).max(1_000_000_000).optional(),
  tokensPerMinute: z.int().min(1).max(1_000_000_000_000).optional(),
  usdPerDay: finite().gt(0).max(1_000_000_000).optional(),
  /** Calls of the key in flight at once, across replicas (from admission until the call's work is over). */
  concurrentRequests: z.int().min(1).max(1_000_000).optional(),
  /**
   * Feedback, pairwise and energy events a minute (each item of a batch counts), on the event endpoints, which
   * `requestsPerMinute` does not count. A request is admitted only if its events fit in what is left of the minute.
   */
  eventsPerMinute: z.int().min(1).max(1_000_000_000).optional(),
});
export type KeyLimits = z.infer<typeof keyLimitsSchema>;

/**
 * The limits a key of `scope` is held to: its own, and for a route key, for each limit it does not set, the
 * deployment's default (`KEY_DEFAULT_LIMITS`; telemetry and admin keys are not held to it). Null when none apply.
 */
export function effectiveLimits(scope: Scope, own: KeyLimits | null | undefined, defaults: KeyLimits | null | undefined): KeyLimits | null {
  const merged = { ...(scope === 'route' ? defaults : {}), ...Object.fromEntries(Object.entries(own ?? {}).filter(([, v]) => v !== undefined)) };
  return Object.keys(merged).length > 0 ? merged : null;
}

export const createKeySchema = z
  .strictObject({
    name: id('name'),
    scope: z.enum(SCOPES),
    policies: z
      .array(id('policy'))
      .max(256)
      .superRefine((ps, ctx) => {
        const i = ps.findIndex((p, j) => ps.indexOf(p) !== j);
        if (i >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `${ps[i]} is listed twice` });
        // An escalation policy is reached through its router, never named by a call: a key names the router.
        const e = ps.findIndex(isEscalationPolicyName);
        if (e >= 0)
          ctx.addIssue({ code: 'custom', path: [e], message: `name the router ${routerPolicyName(ps[e])}: an escalation policy is not called by name` });
      })
      .optional(),
    limits: keyLimitsSchema.optional(),
  })
  .superRefine((k, ctx) => {
    // An admin key manages every policy: a list would read as a restriction that nothing enforces.
    if (k.scope === 'admin' && k.policies !== undefined)
      ctx.addIssue({ code: 'custom', path: ['policies'], message: 'an admin key manages every policy: give policies to route or telemetry keys' });
  });
export type CreateKeyInput = z.infer<typeof createKeySchema>;

/** `GET /admin/keys/{id}/usage?from&to`: the window (default: the 24 hours before `to`, default now). */
export const keyUsageQuerySchema = z.strictObject({ from: instant('from').optional(), to: instant('to').optional() }).transform((q, ctx) => {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
  if (!(from < to)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
  return { from, to };
});
export type KeyUsageQuery = z.infer<typeof keyUsageQuerySchema>;

/** `PATCH /admin/keys/{id}`: the key's limits, replaced as a whole (`null` removes them). */
export const patchKeySchema = z.strictObject({ limits: keyLimitsSchema.nullable() });
export type PatchKeyInput = z.infer<typeof patchKeySchema>;

/** The caller as authenticated by a key. `owner` is the key's name: feedback may reference its decisions only. */
export interface Principal {
  keyId: string;
  owner: string;
  scope: Scope;
  policies: string[] | null;
  /** The key's limits (absent or null: none). */
  limits?: KeyLimits | null;
}
