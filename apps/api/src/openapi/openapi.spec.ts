import 'reflect-metadata';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { KeysController } from '../admin/keys.controller.js';
import { ModelsController } from '../admin/models.controller.js';
import { PoliciesController } from '../admin/policies.controller.js';
import { HealthController } from '../health/health.controller.js';
import { IngestController } from '../ingest/ingest.controller.js';
import { MetricsController } from '../observability/metrics.controller.js';
import { ProxyController } from '../proxy/proxy.controller.js';
import { RouteController } from '../routing/route.controller.js';
import { ReadingsController } from '../telemetry/readings.controller.js';
import { openApiDocument } from './openapi.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
type Operation = Record<string, any> & { responses: Record<string, any> };

const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>>; tags: { name: string }[] };
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ key: `${m} ${path}`, path, method: m, op: item[m] })),
);

/** Every route the api's controllers serve (Nest's own route metadata), as `method /path/{param}`. */
function servedRoutes(): string[] {
  const controllers = [
    RouteController,
    ProxyController,
    MetricsController,
    IngestController,
    KeysController,
    ModelsController,
    PoliciesController,
    HealthController,
    ReadingsController,
  ];
  return controllers.flatMap((c) => {
    const base = String(Reflect.getMetadata(PATH_METADATA, c) ?? '');
    const proto = c.prototype as unknown as Record<string, unknown>;
    return Object.getOwnPropertyNames(proto).flatMap((name) => {
      const handler = proto[name];
      if (typeof handler !== 'function' || name === 'constructor') return [];
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (sub === undefined || method === undefined) return [];
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{id}');
      return [`${RequestMethod[method].toLowerCase()} ${path}`];
    });
  });
}

describe('OpenAPI document', () => {
  it('gives every operation a unique operationId, tags and documented responses', () => {
    expect(operations.length).toBeGreaterThan(30);
    const missing = operations.filter(({ op }) => typeof op.operationId !== 'string' || !Array.isArray(op.tags) || op.tags.length === 0 || !op.responses);
    expect(missing.map((o) => o.key)).toEqual([]);
    const ids = operations.map(({ op }) => op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { key, op } of operations) {
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      expect({ key, success: success.length > 0 }).toEqual({ key, success: true });
      expect({ key, errors: '4XX' in op.responses && '503' in op.responses }).toEqual({ key, errors: true });
    }
    // Every tag used is declared.
    const declared = new Set(doc.tags.map((t) => t.name));
    expect(operations.filter(({ op }) => !op.tags.every((t: string) => declared.has(t))).map((o) => o.key)).toEqual([]);
  });

  it('gives every success answer with a body (every 2xx but 204) a schema', () => {
    const bare = operations.flatMap(({ key, op }) =>
      Object.entries(op.responses)
        .filter(([status]) => /^2\d\d$/.test(status) && status !== '204')
        .filter(([, r]) => {
          const media = Object.values((r as { content?: Record<string, { schema?: unknown }> }).content ?? {});
          return media.length === 0 || media.some((m) => typeof m.schema !== 'object' || m.schema === null || Object.keys(m.schema).length === 0);
        })
        .map(([status]) => `${key} ${status}`),
    );
    expect(bare).toEqual([]);
    // A 204 has no body to describe.
    const withBody = operations.filter(({ op }) => op.responses['204']?.content).map((o) => o.key);
    expect(withBody).toEqual([]);
    const chat = doc.paths['/v1/chat/completions'].post.responses['200'].content;
    expect(Object.keys(chat)).toEqual(expect.arrayContaining(['application/json', 'text/event-stream']));
    expect(chat['application/json'].schema.properties.object.const).toBe('chat.completion');
  });

  it('documents every route the controllers serve, and nothing they do not', () => {
    const served = servedRoutes().sort();
    expect(served.length).toBeGreaterThan(30);
    expect(operations.map((o) => o.key).sort()).toEqual(served);
  });

  it('derives request and response bodies from the zod contracts', () => {
    const route = doc.paths['/v1/route'].post;
    expect(route.requestBody.content['application/json'].schema.required).toEqual(['policy']);
    const answer = route.responses['200'].content['application/json'].schema;
    expect(answer.required).toEqual(expect.arrayContaining(['decisionId', 'model', 'propensity', 'scores']));
    expect(answer.properties.featureSource.enum).toEqual(['builtin', 'caller', 'embeddings', 'fallback']);
    const policy = doc.paths['/admin/policies/{name}'].get.responses['200'].content['application/json'].schema;
    expect(policy.properties.algorithm.enum).toContain('linucb');
    expect(policy.required).toEqual(expect.arrayContaining(['name', 'version', 'epoch', 'objective', 'arms']));
    expect(doc.paths['/admin/keys'].post.responses['201'].content['application/json'].schema.required).toContain('secret');
  });

  it('documents 201 on creation, Idempotency-Key, Retry-After and the x-router-* headers', () => {
    expect(Object.keys(doc.paths['/admin/keys'].post.responses)).toContain('201');
    expect(Object.keys(doc.paths['/admin/policies/{name}'].put.responses)).toEqual(expect.arrayContaining(['200', '201']));
    for (const path of ['/v1/feedback', '/v1/feedback/pairwise', '/v1/feedback/batch', '/v1/energy', '/v1/energy/batch'])
      expect({ path, idempotency: doc.paths[path].post.parameters.some((p: any) => p.name === 'Idempotency-Key' && p.in === 'header') }).toEqual({
        path,
        idempotency: true,
      });
    for (const { key, op } of operations) {
      expect({ key, retry429: 'Retry-After' in op.responses['429'].headers }).toEqual({ key, retry429: true });
      expect({ key, retry503: 'Retry-After' in op.responses['503'].headers }).toEqual({ key, retry503: true });
    }
    expect(Object.keys(doc.paths['/v1/chat/completions'].post.responses['200'].headers)).toEqual(
      expect.arrayContaining(['x-router-decision-id', 'x-router-model', 'x-router-models', 'x-request-id']),
    );
  });
});
