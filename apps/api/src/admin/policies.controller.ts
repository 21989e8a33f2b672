import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  budgetPatchSchema,
  evaluateRequestSchema,
  frontierRequestSchema,
  revertRequestSchema,
  timeseriesQuerySchema,
  id as idSchema,
  objectivePatchSchema,
  policyConfigSchema,
  priorRequestSchema,
  type Principal,
} from '@app/contracts';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { clientGoneSignal } from '../response-over.js';
import { Caller, RequireScope } from '../auth/scopes.js';
import { IdParam } from '../id-param.pipe.js';
import { noBodySchema, parseOrThrow } from '../validation.js';
import { EvaluationService } from './evaluation.service.js';
import { PoliciesService } from './policies.service.js';
import { TimeseriesService } from './timeseries.service.js';

@Controller('admin/policies')
@RequireScope('admin')
export class PoliciesController {
  constructor(
    private readonly policies: PoliciesService,
    private readonly evaluation: EvaluationService,
    private readonly series: TimeseriesService,
  ) {}

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

  @Patch(':name/budget')
  budget(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    return this.policies.patchBudget(name, parseOrThrow(budgetPatchSchema, body).budget, c);
  }

  @Post(':name/objective/revert')
  @HttpCode(200)
  revert(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    return this.policies.revertObjective(name, parseOrThrow(revertRequestSchema, body).auditId, c);
  }

  @Get(':name/timeseries')
  timeseries(@Param('name', new IdParam('name')) name: string, @Query() query: unknown) {
    return this.series.timeseries(name, parseOrThrow(timeseriesQuerySchema, query, 'query'));
  }

  @Post(':name/evaluate')
  @HttpCode(200)
  evaluate(
    @Param('name', new IdParam('name')) name: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.evaluation.evaluate(name, parseOrThrow(evaluateRequestSchema, body), clientGoneSignal(req.raw, reply.raw));
  }

  @Post(':name/frontier')
  @HttpCode(200)
  frontier(
    @Param('name', new IdParam('name')) name: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.evaluation.frontier(name, parseOrThrow(frontierRequestSchema, body), clientGoneSignal(req.raw, reply.raw));
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
  reset(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    parseOrThrow(noBodySchema, body);
    return this.policies.reset(name, c);
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  rebuild(@Caller() c: Principal, @Param('name', new IdParam('name')) name: string, @Body() body: unknown) {
    parseOrThrow(noBodySchema, body);
    return this.policies.rebuild(name, c);
  }
}
