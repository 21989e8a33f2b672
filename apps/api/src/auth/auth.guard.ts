import { timingSafeEqual, createHash } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Principal, type Scope } from '@app/contracts';
import { DomainError } from '@app/errors';
import { CONFIG } from '@app/infra';
import { KeysRepository } from '@app/persistence';
import { type ApiEnv } from '../config.js';
import { SCOPE_KEY } from './scopes.js';

const CACHE_MS = 30_000;
/** After a failed lookup, how long a cached key is served before Postgres is asked again. */
const RETRY_MS = 5_000;
const sha = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-key authentication and scope check. The bootstrap admin key comes from ADMIN_API_KEY; other keys are
 * looked up by hash in Postgres and cached for 30 s, so routing keeps authenticating during a Postgres outage
 * (a revoked key stops working within 30 s).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly cache = new Map<string, { at: number; p: Principal | null }>();
  private readonly adminHash: Buffer;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeysRepository,
    @Inject(CONFIG) env: ApiEnv,
  ) {
    this.adminHash = sha(env.ADMIN_API_KEY);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S{1,512})$/i.exec(header) : null;
    if (!m) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <key>');
    const principal = await this.resolve(m[1]);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'unknown or revoked key');
    if (need === 'admin' && principal.scope !== 'admin') throw new DomainError('FORBIDDEN', 'this endpoint needs an admin key');
    req.principal = principal;
    return true;
  }

  private async resolve(secret: string): Promise<Principal | null> {
    const h = sha(secret);
    if (timingSafeEqual(h, this.adminHash)) return { keyId: 'bootstrap', owner: 'admin', scope: 'admin', policies: null };
    const k = h.toString('hex');
    const hit = this.cache.get(k);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.p;
    try {
      const p = await this.keys.findBySecret(secret);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(k, { at: Date.now(), p });
      return p;
    } catch {
      if (hit) {
        // Postgres away: keep serving keys seen before, and ask again only after RETRY_MS (not on every request).
        this.cache.set(k, { at: Date.now() - CACHE_MS + RETRY_MS, p: hit.p });
        return hit.p;
      }
      throw new DomainError('UNAVAILABLE', 'cannot check the key right now', [], 5);
    }
  }
}
