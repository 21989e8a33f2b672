import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { fastFetch } from './fast-fetch.js';
import { ResponseTooLarge } from './too-large.js';

describe('fastFetch response limit', () => {
  let server: Server;
  let url: string;
  let written = 0;
  const fill = Buffer.alloc(64 * 1024, 'a');

  beforeAll(async () => {
    server = createServer((req, res) => {
      const [, kind, size] = req.url!.split('/');
      const total = Number(size);
      if (kind === 'declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
        res.end(Buffer.alloc(total, 'a'));
        return;
      }
      res.writeHead(kind === 'sse' ? 200 : kind === 'error' ? 500 : 200, { 'content-type': kind === 'sse' ? 'text/event-stream' : 'application/json' });
      let left = total;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const c = fill.subarray(0, Math.min(left, fill.length));
          left -= c.length;
          written += c.length;
          if (!res.write(c)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const f = fastFetch(undefined, { maxBodyBytes: 1024 * 1024, limitName: 'PROXY_MAX_RESPONSE_BYTES' });

  it('reads bodies up to the limit', async () => {
    expect((await (await f(`${url}/chunked/${1024 * 1024}`)).text()).length).toBe(1024 * 1024);
  });

  it('stops reading a chunked body past the limit and drops the connection', async () => {
    written = 0;
    const res = await f(`${url}/chunked/${256 * 1024 * 1024}`);
    await expect(res.text()).rejects.toThrow(new ResponseTooLarge('response', 'PROXY_MAX_RESPONSE_BYTES', 1024 * 1024));
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a declared length over the limit before reading, and bounds error bodies too', async () => {
    await expect((await f(`${url}/declared/${2 * 1024 * 1024}`)).text()).rejects.toBeInstanceOf(ResponseTooLarge);
    const err = await f(`${url}/error/${8 * 1024 * 1024}`);
    expect(err.status).toBe(500);
    await expect(err.text()).rejects.toBeInstanceOf(ResponseTooLarge);
  });

  it('leaves a 2xx event stream to the SSE relay (bounded per event there)', async () => {
    expect((await (await f(`${url}/sse/${4 * 1024 * 1024}`)).text()).length).toBe(4 * 1024 * 1024);
  });
});
