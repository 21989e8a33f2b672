import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CONFIG, Logger, REDIS, type RedisClient } from '@app/infra';
import { type WorkerEnv } from '../config.js';
import { WorkerMetrics } from './worker-metrics.js';

const PING_TIMEOUT_MS = 1000;

/**
 * The worker's small HTTP surface for probes and scrapers (no Nest HTTP stack: the worker has no api):
 * `GET /health/live` (the process answers), `GET /health/ready` (it reaches Redis, where its jobs come from:
 * 200, else 503), `GET /metrics` (Prometheus; `Authorization: Bearer <METRICS_TOKEN>` when that is set). Off
 * when WORKER_HTTP_PORT is unset.
 */
@Injectable()
export class WorkerHttp implements OnModuleInit, OnApplicationShutdown {
  private server: Server | null = null;
  private readonly log: Logger;

  constructor(
    @Inject(CONFIG) private readonly env: WorkerEnv,
    private readonly metrics: WorkerMetrics,
    @Inject(REDIS) private readonly redis: RedisClient,
    logger: Logger,
  ) {
    this.log = logger.child('worker-http');
  }

  /** The bound port (null when off); with WORKER_HTTP_PORT=0, the one the system chose. */
  get port(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  async onModuleInit(): Promise<void> {
    if (this.env.WORKER_HTTP_PORT === undefined) return;
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.env.WORKER_HTTP_PORT, this.env.WORKER_HTTP_HOST, () => resolve());
    });
    this.server = server;
    this.log.info('worker probes and metrics listening', { port: this.port });
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, JSON.stringify({ status: 405, title: 'Method Not Allowed' }));
    try {
      if (path === '/health/live') return send(200, JSON.stringify({ status: 'ok' }));
      if (path === '/health/ready') {
        const ok = await this.redisAnswers();
        return send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ok' : 'unavailable', dependencies: { redis: { ok } } }));
      }
      if (path === '/metrics') {
        const token = this.env.METRICS_TOKEN;
        if (token && req.headers.authorization !== `Bearer ${token}`) return send(401, JSON.stringify({ status: 401, title: 'Unauthorized' }));
        return send(200, await this.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
      }
      return send(404, JSON.stringify({ status: 404, title: 'Not Found' }));
    } catch (err) {
      this.log.warn('worker probe failed', { path, error: (err as Error).message });
      return send(500, JSON.stringify({ status: 500, title: 'Internal Server Error' }));
    }
  }

  private async redisAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    const ok = await Promise.race([
      this.redis.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    return ok;
  }
}
