import { type CanActivate, type ExecutionContext, Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Principal, type Scope } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { KeysRepository } from '@app/persistence';
import { KeyRevocations, type RevocationSubscription } from '@app/store';
import { parseAdmittedBody } from '../body-parsers.js';
import { type ApiEnv } from '../config.js';
import { clientKey } from './client-key.js';
import { KeyResolver, secretMatches, sha256 } from './key-resolver.js';
import { METRICS_KEY, SCOPE_KEY, scopeAllows } from './scopes.js';

interface GuardedRequest {
  headers: Record<string, string | undefined>;
  ip?: string;
  principal?: Principal;
  body?: unknown;
}

/**
 * Bearer-key authentication and scope check (keys resolved and cached by KeyResolver). Revocations reach every
 * replica through Redis (KeyRevocations): a revoked key is refused everywhere within moments; with Redis away,
 * within CACHE_MS (30 s) of a replica's last lookup, as Postgres answers for it then.
 * `/metrics` needs METRICS_TOKEN or an admin key when METRICS_TOKEN is set.
 */
@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit, OnModuleDestroy {
  private readonly resolver: KeyResolver;
  private readonly metricsHash: Buffer | null;
  private readonly revocations: KeyRevocations;
  private readonly log: Logger;
  private subscription?: RevocationSubscription;

  constructor(
    private readonly reflector: Reflector,
    keys: KeysRepository,
    @Inject(CONFIG) env: ApiEnv,
    @Inject(REDIS) redis: RedisClient,
    @Inject(Logger) logger: Logger,
  ) {
    this.resolver = new KeyResolver(keys, {
      adminSecret: env.ADMIN_API_KEY,
      lookupsPerSecond: env.AUTH_LOOKUPS_PER_SECOND,
      lookupBurst: env.AUTH_LOOKUP_BURST,
      lookupsPerSecondTotal: env.AUTH_LOOKUPS_PER_SECOND_TOTAL,
      defaultLimits: env.KEY_DEFAULT_LIMITS ?? null,
    });
    this.metricsHash = env.METRICS_TOKEN ? sha256(env.METRICS_TOKEN) : null;
    this.revocations = new KeyRevocations(redis, env.REDIS_PREFIX);
    this.log = logger.child('auth');
  }

  onModuleInit(): void {
    let failures = 0;
    this.subscription = this.revocations.subscribe(
      (keyId) => this.resolver.revoke(keyId),
      (err) => {
        if (failures++ % 60 === 0) this.log.warn('cannot read recent key revocations from Redis', { error: err.message });
      },
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.close();
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<GuardedRequest>();
    await this.admit(req, [ctx.getHandler(), ctx.getClass()]);
    // Only now is the body parsed: a request without a valid key never costs the parse of what it sent.
    await parseAdmittedBody(req);
    return true;
  }

  /** Lets the request in (its principal set), or throws 401/403. */
  private async admit(req: GuardedRequest, targets: Parameters<Reflector['getAllAndOverride']>[1]): Promise<void> {
    if (this.reflector.getAllAndOverride<boolean | undefined>(METRICS_KEY, targets)) return this.metricsAccess(req);
    const need = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_KEY, targets);
    if (!need) return;
    const principal = await this.resolver.resolve(bearer(req), clientKey(req.ip));
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'unknown or revoked key');
    if (!scopeAllows(need, principal.scope))
      throw new DomainError('FORBIDDEN', need === 'admin' ? 'this endpoint needs an admin key' : `this endpoint needs a ${need} key`);
    req.principal = principal;
  }

  private async metricsAccess(req: GuardedRequest): Promise<void> {
    if (!this.metricsHash) return;
    const secret = bearer(req, 'send Authorization: Bearer <METRICS_TOKEN>');
    if (secretMatches(secret, this.metricsHash)) return;
    const p = await this.resolver.resolve(secret, clientKey(req.ip));
    if (p?.scope === 'admin') return;
    throw new DomainError('UNAUTHENTICATED', 'metrics need Authorization: Bearer <METRICS_TOKEN> or an admin key');
  }
}

function bearer(req: GuardedRequest, hint = 'send Authorization: Bearer <key>'): string {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
  if (!m) throw new DomainError('UNAUTHENTICATED', hint);
  return m[1];
}
