import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { openApiDocument } from './openapi.js';

const uiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** File → content type. A Map: a plain object would answer `constructor`, `__proto__`... from its prototype. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css'],
  ['swagger-ui-bundle.js', 'application/javascript'],
  ['swagger-ui-standalone-preset.js', 'application/javascript'],
]);
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>bandit-router API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });</script></body></html>`;

/**
 * OpenAPI document and a Swagger UI served from the swagger-ui-dist package (no CDN). Open without a key, so each
 * answer is prepared once: the document serialised (175 KB) and the assets read (the bundle is 1.7 MB), not on
 * every request.
 */
@Controller()
export class DocsController {
  private readonly doc = JSON.stringify(openApiDocument());
  private readonly files = new Map<string, Buffer>();

  @Get('openapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  openapi() {
    return this.doc;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return PAGE;
  }

  @Get('docs/:asset')
  asset(@Param('asset') asset: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const type = ASSETS.get(asset);
    if (!type) throw new NotFoundException();
    void reply.header('content-type', type).header('cache-control', 'public, max-age=86400');
    let file = this.files.get(asset);
    if (!file) this.files.set(asset, (file = readFileSync(join(uiDir, asset))));
    return file;
  }
}
