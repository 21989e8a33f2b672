import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { type FastifyInstance, type FastifyReply } from 'fastify';
import { type Asset, loadDashboardAssets } from './dashboard-assets.js';

/**
 * Only this origin's own files, no inline script or style, no framing. The page's data calls go to this origin
 * (`connect-src 'self'`) with the admin key the user typed in, kept in the tab's sessionStorage.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The operator dashboard (`GET /dashboard`): a static page and its scripts, no key needed to load them. Every
 * data call the page makes goes to the admin API with the key the user signs in with.
 */
@Controller('dashboard')
export class DashboardController {
  private readonly assets = loadDashboardAssets();

  @Get()
  page(@Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, this.assets.page);
  }

  @Get(':asset')
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const a = this.assets.files.get(name);
    if (!a) {
      // The 404 carries the same security headers as the files.
      secured(reply);
      throw new NotFoundException();
    }
    return send(reply, a);
  }
}

/**
 * `/dashboard/` (a bookmark or a typed slash) redirects to the page, whose assets' relative paths resolve from
 * `/dashboard`: relatively, so that it also holds behind a proxy that serves the api under a path prefix. A route of
 * its own on the Fastify instance: Nest drops a trailing slash from its paths.
 */
export function installDashboardSlash(fastify: FastifyInstance): void {
  fastify.get('/dashboard/', (_req, reply) => reply.redirect('../dashboard', 308));
}

/** The headers every dashboard answer carries. */
function secured(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

function send(reply: FastifyReply, a: Asset): Buffer {
  void secured(reply).header('content-type', a.type).header('cache-control', 'no-cache');
  return a.body;
}
