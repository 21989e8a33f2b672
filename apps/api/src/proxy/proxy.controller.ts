import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { chatRequestSchema, embeddingsRequestSchema, type Principal } from '@app/contracts';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Caller, RequireScope } from '../auth/scopes.js';
import { whileHoldingSlot } from '../limits/call-slot.js';
import { clientGone } from '../response-over.js';
import { KeyLimited } from '../limits/key-limits.guard.js';
import { parseOrThrow } from '../validation.js';
import { ProxyService } from './proxy.service.js';

@Controller()
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  /**
   * OpenAI-compatible chat completions: `"model": "router/<policy>"` (routed) or a model id (direct); streaming or
   * not. A call whose client left before it began is not made; one under way holds the key's call-in-flight slot
   * until it ends, even after its client left.
   */
  @Post('v1/chat/completions')
  @RequireScope('route')
  @KeyLimited()
  async chat(@Caller() c: Principal, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const chat = parseOrThrow(chatRequestSchema, body);
    if (clientGone(req.raw, reply.raw)) return;
    await whileHoldingSlot(req, () => this.proxy.complete(c, chat, reply, { headers: req.headers, requestId: req.id }));
  }

  /** OpenAI-compatible embeddings of a registry model (a direct call: embeddings are not routed). */
  @Post('v1/embeddings')
  @RequireScope('route')
  @KeyLimited()
  async embeddings(@Caller() c: Principal, @Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const embed = parseOrThrow(embeddingsRequestSchema, body);
    if (clientGone(req.raw, reply.raw)) return;
    await whileHoldingSlot(req, () => this.proxy.embed(c, embed, reply, { headers: req.headers, requestId: req.id }));
  }

  @Get('v1/models')
  @RequireScope('route')
  models(@Caller() c: Principal) {
    return this.proxy.models(c);
  }

  /** One entry of `GET /v1/models` (a router's id holds a slash: `router/<policy>`); 404 for one the key cannot call. */
  @Get('v1/models/*')
  @RequireScope('route')
  model(@Caller() c: Principal, @Req() req: FastifyRequest) {
    // Decoded by the router already (`router%2Fchat` arrives as `router/chat`).
    return this.proxy.model(c, (req.params as Record<string, string>)['*'] ?? '');
  }
}
