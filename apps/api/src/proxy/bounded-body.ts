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
 * `limit.bytes` arrived, or before the first chunk when the declared length is over it: an answer or error body is
 * never buffered whole. The next chunk is read only when asked for (the caller's pace is the upstream's); a caller
 * that stops early destroys the body.
 */
export async function* boundedChunks(body: Readable, limit: BodyLimit): AsyncGenerator<Buffer, void, undefined> {
  if (limit.declared > limit.bytes) {
    body.on('error', () => undefined).destroy();
    throw limit.tooLarge();
  }
  let seen = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > limit.bytes) throw limit.tooLarge();
      yield chunk;
    }
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}

/** The rest of a body's chunks as UTF-8 text. */
export async function bodyText(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}
