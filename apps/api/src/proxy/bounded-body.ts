import { type Readable } from 'node:stream';

/** How much of a body may be read, and the error past that. */
export interface BodyLimit {
  bytes: number;
  /** The length the response declared (content-length), 0 when it declared none. */
  declared: number;
  tooLarge: () => Error;
}

/**
 * An upstream body's chunks as they arrive, erroring with `tooLarge()` (and dropping the connection) once more than
 * `limit.bytes` arrived; a declared length over the limit throws here, before anything is read. An answer or error
 * body is never buffered whole. The next chunk is read only when asked for (the caller's pace is the upstream's); a
 * caller that stops early destroys the body, and the error a destroyed body emits is listened to (never uncaught).
 */
export function boundedChunks(body: Readable, limit: BodyLimit): AsyncGenerator<Buffer, void, undefined> {
  body.on('error', ignore);
  if (limit.declared > limit.bytes) {
    body.destroy();
    throw limit.tooLarge();
  }
  return chunksWithin(body, limit.bytes, limit.tooLarge);
}

async function* chunksWithin(body: Readable, bytes: number, tooLarge: () => Error): AsyncGenerator<Buffer, void, undefined> {
  let seen = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > bytes) throw tooLarge();
      yield chunk;
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}

const ignore = () => undefined;

/** The rest of a body's chunks as UTF-8 text. */
export async function bodyText(chunks: AsyncIterable<Buffer>): Promise<string> {
  return (await bodyBytes(chunks)).toString('utf8');
}

/** The rest of a body's chunks as one buffer. */
export async function bodyBytes(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}
