import { z } from 'zod';
import { id } from './finite.js';

/** route: route, feedback, energy, proxy. telemetry: energy readings only (any owner's decisions, model-level readings). */
export const SCOPES = ['route', 'telemetry', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const createKeySchema = z.strictObject({
  name: id('name'),
  scope: z.enum(SCOPES),
  policies: z.array(id('policy')).max(256).optional(),
});
export type CreateKeyInput = z.infer<typeof createKeySchema>;

/** The caller as authenticated by a key. `owner` is the key's name: feedback may reference its decisions only. */
export interface Principal {
  keyId: string;
  owner: string;
  scope: Scope;
  policies: string[] | null;
}
