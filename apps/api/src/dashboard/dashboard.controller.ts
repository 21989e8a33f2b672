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
    if (!a) throw new NotFoundException();
    return send(reply, a);
  }
}

/** The headers every answer under `/dashboard` carries (its files, its redirect, its 404s). */
const DASHBOARD_HEADERS: [string, string][] = [
  ['content-security-policy', DASHBOARD_CSP],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
];
const isDashboardUrl = (url: string) => url === '/dashboard' || url.startsWith('/dashboard/') || url.startsWith('/dashboard?');

/**
 * What the dashboard needs outside its controller: its security headers on every answer under `/dashboard` (set on
 * the raw response, so that the 404s of paths no route takes carry them too), and `/dashboard/` (a bookmark or a
 * typed slash) redirected to the page, whose assets' relative paths resolve from `/dashboard`: relatively, so that
 * it also holds behind a proxy that serves the api under a path prefix. The redirect is a route of its own on the
 * Fastify instance: Nest drops a trailing slash from its paths.
 */
export function installDashboardRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    if (isDashboardUrl(req.url)) for (const [name, value] of DASHBOARD_HEADERS) reply.raw.setHeader(name, value);
    done();
  });
  fastify.get('/dashboard/', (_req, reply) => reply.redirect('../dashboard', 308));
}

function send(reply: FastifyReply, a: Asset): Buffer {
  void reply.header('content-type', a.type).header('cache-control', 'no-cache');
  return a.body;
}
