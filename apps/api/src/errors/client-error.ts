import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { errorPayload, titleOf, type ErrorAnswer } from './problem.filter.js';

/** What Node's HTTP parser reports with a request it could not read (its first bytes, when it has them). */
type ClientError = Error & { code?: string; rawPacket?: unknown };

/** The answer to a request Node's HTTP server refused before any route saw it. */
export function clientErrorAnswer(err: ClientError): ErrorAnswer {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, code: 'http-408', detail: 'the request did not arrive in time', errors: [{ path: '(request)', message: 'incomplete' }] };
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, code: 'http-431', detail: 'the request line and headers are too large', errors: [{ path: '(headers)', message: 'too large' }] };
  if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return { status: 413, code: 'http-413', detail: 'chunk extensions too large', errors: [{ path: '(body)', message: 'too large' }] };
  return { status: 400, code: 'http-400', detail: 'malformed HTTP request', errors: [{ path: '(request)', message: err.code ?? 'unreadable' }] };
}

/** The request's path, read from the start of what arrived ("METHOD /path HTTP/1.1"), when it got that far. */
function pathOf(raw: unknown): string {
  const line = Buffer.isBuffer(raw) ? raw.subarray(0, 2048).toString('latin1').split('\r\n', 1)[0] : '';
  return line.split(' ')[1] ?? '';
}

/**
 * Fastify's clientErrorHandler: a request Node's HTTP parser refused (headers too large, a malformed request, one
 * that did not arrive in time) is answered in the shape its path calls for, as every other error (OpenAI's
 * envelope on the OpenAI-compatible paths when the request line was read, else problem+json) with a request id of
 * its own (no route read the caller's), and the connection is closed: what follows on it cannot be trusted to start
 * a request.
 */
export function answerClientError(err: ClientError, socket: Socket & { _httpMessage?: { headersSent?: boolean; req?: { url?: string } } | null }): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // An answer already under way on this connection (a streamed completion, a pipelined request's) is not spliced
  // into: the connection just closes, as Node itself does.
  if (socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const a = clientErrorAnswer(err);
  // The request being read, when Node got as far as its headers (an error in its body); else its first bytes.
  const { type, body } = errorPayload(socket._httpMessage?.req?.url ?? pathOf(err.rawPacket), a);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${a.status} ${titleOf(a.status)}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

/**
 * The HTTP server's `checkExpectation` listener: a request with an `Expect` other than `100-continue`, which Node
 * would otherwise answer with a bare 417, gets it in the shape of its path, with a request id of its own. The
 * connection closes: the body that may follow was not read.
 */
export function answerUnmetExpectation(req: IncomingMessage, res: ServerResponse): void {
  const a: ErrorAnswer = {
    status: 417,
    code: 'http-417',
    detail: 'the request expects what this server does not do (only "Expect: 100-continue" is)',
    errors: [{ path: '(headers)', message: 'unsupported Expect' }],
  };
  const { type, body } = errorPayload(req.url ?? '', a);
  res.writeHead(417, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-request-id': randomUUID(), connection: 'close' });
  res.end(body);
}
