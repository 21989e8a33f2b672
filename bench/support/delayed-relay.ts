import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay to 127.0.0.1:`port` that holds every chunk a client sends for `delayMs` before passing it on (answers
 * come back at once): a Redis across a network, to measure what a round trip to it adds to a request.
 */
export async function delayedRelay(port: number, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = createConnection({ host: '127.0.0.1', port });
    sockets.add(client).add(server);
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('data', (chunk) => setTimeout(() => server.writable && server.write(chunk), delayMs));
    server.pipe(client);
    for (const s of [client, server]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
