import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import { id as idSchema, objectivePatchSchema, policyConfigSchema, priorRequestSchema, type Principal } from '@app/contracts';
import { type FastifyReply } from 'fastify';
import { Caller, RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { parseOrThrow } from '../validation.js';
import { PoliciesService } from './policies.service.js';

@Controller('admin/policies')
@RequireScope('admin')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Put(':name')
  async put(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    parseOrThrow(idSchema('name'), name, 'path');
    const { created, ...policy } = await this.policies.put(name, parseOrThrow(policyConfigSchema, body), c);
    void reply.status(created ? 201 : 200);
    return policy;
  }

  @Get()
  async list() {
    return { policies: await this.policies.list() };
  }

  @Get(':name')
  get(@Param('name', new IdParam('name')) name: string) {
    return this.policies.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  delete(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string) {
    return this.policies.delete(name, c);
  }

  @Patch(':name/objective')
  objective(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    return this.policies.patchObjective(name, parseOrThrow(objectivePatchSchema, body), c);
  }

  @Get(':name/stats')
  stats(@Param('name', new IdParam('name')) name: string) {
    return this.policies.stats(name);
  }

  @Get(':name/audit')
  async audit(@Param('name', new IdParam('name')) name: string) {
    return { audit: await this.policies.auditTrail(name) };
  }

  @Post(':name/prior')
  @HttpCode(200)
  prior(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    return this.policies.installPrior(name, parseOrThrow(priorRequestSchema, body), c);
  }

  @Delete(':name/prior')
  @HttpCode(200)
  removePrior(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string) {
    return this.policies.removePrior(name, c);
  }

  @Post(':name/reset')
  @HttpCode(200)
  reset(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string) {
    return this.policies.reset(name, c);
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  rebuild(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string) {
    return this.policies.rebuild(name, c);
  }
}
