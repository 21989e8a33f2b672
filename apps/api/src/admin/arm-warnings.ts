import { type Model, type PolicyConfig } from '@app/contracts';

/**
 * What an operator should know about a policy's arms that the admin API accepts: arms the OpenAI-compatible proxy
 * cannot call (no baseUrl, or a key variable this replica's environment does not set) or will skip (disabled).
 * /v1/route callers are not affected by any of them.
 */
export function armWarnings(policy: Pick<PolicyConfig, 'arms'>, models: readonly Model[], env: NodeJS.ProcessEnv = process.env): string[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  const out: string[] = [];
  for (const arm of policy.arms) {
    const m = byId.get(arm);
    if (!m) continue;
    if (!m.baseUrl) out.push(`arm ${arm} has no baseUrl: the proxy cannot call it (it is skipped as a configuration failure)`);
    else if (m.apiKeyEnv !== undefined && !env[m.apiKeyEnv])
      out.push(
        `arm ${arm}: apiKeyEnv ${m.apiKeyEnv} is not set in this replica's environment: the proxy cannot call it (it is skipped as a configuration failure)`,
      );
    if (!m.enabled) out.push(`arm ${arm} is disabled: it is not chosen until enabled again`);
  }
  return out;
}
