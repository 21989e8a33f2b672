import { z } from 'zod';
import { finite } from './finite.js';

export const modelConfigSchema = z.strictObject({
  baseUrl: z.url().optional(),
  upstreamModel: z.string().min(1).max(200).optional(),
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').optional(),
  pricing: z
    .strictObject({ inputPerMTok: finite().min(0), outputPerMTok: finite().min(0) })
    .optional(),
  energy: z.strictObject({ joulesPerOutputToken: finite().min(0) }).optional(),
  enabled: z.boolean().default(true),
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;
export interface Model extends ModelConfig {
  id: string;
}
