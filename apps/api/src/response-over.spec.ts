import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { clientGone, onResponseOver } from './response-over.js';

/** A local server whose handler is the test's (one per test), and raw client connections to it. */
async function server(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ srv: Server; port: number }> {
  const srv = createServer(handle);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { srv, port: (srv.address() as AddressInfo).port };
}
const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('onResponseOver', () => {
  let srv: Server | undefined;
  afterEach(async () => {
    srv?.closeAllConnections();
    await new Promise((r) => srv?.close(r));
  });

  it('tells a finished response, once', async () => {
    const seen: boolean[] = [];
    const s = await server((req, res) => {
      onResponseOver(req, res, (finished) => seen.push(finished));
      res.end('ok');
    });
    srv = s.srv;
    const r = await fetch(`http://127.0.0.1:${s.port}/`);
    expect(await r.text()).toBe('ok');
    await sleep(50);
    expect(seen).toEqual([true]);
  });

  it('tells a client gone before the answer, and at once when registered after it left', async () => {
    const seen: string[] = [];
    const s = await server((req, res) => {
      onResponseOver(req, res, (finished) => seen.push(`early ${finished}`));
      setTimeout(() => {
        expect(clientGone(req, res)).toBe(true);
        onResponseOver(req, res, (finished) => seen.push(`late ${finished}`));
        res.end('too late');
      }, 100);
    });
    srv = s.srv;
    const c = connect(s.port, '127.0.0.1');
    c.write(get('/a'));
    await sleep(30);
    c.destroy();
    await sleep(150);
    expect(seen).toEqual(['early false', 'late false']);
  });

  it("tells a pipelined request's response when the connection dies while it waits behind another", async () => {
    const seen: string[] = [];
    const s = await server((req, res) => {
      expect(clientGone(req, res)).toBe(false);
      onResponseOver(req, res, (finished) => seen.push(`${req.url} ${finished}`));
      setTimeout(() => res.end('slow'), 200);
    });
    srv = s.srv;
    const c = connect(s.port, '127.0.0.1');
    c.on('error', () => undefined);
    c.write(get('/first') + get('/second'));
    await sleep(60);
    c.destroy();
    await sleep(300);
    expect(seen.sort()).toEqual(['/first false', '/second false']);
  });
});
