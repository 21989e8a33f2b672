import { generatedBytes } from './usage-tokens.js';
import { MalformedAnswer } from './completion-rewrite.js';
import { ResponseTooLarge } from './too-large.js';

const LF = 0x0a;
const CR = 0x0d;

/** The largest event relayed, and the setting it comes from (named in the error). */
export interface EventLimit {
  bytes: number;
  setting: string;
}

/**
 * Relays an upstream's server-sent events chunk by chunk: complete events are forwarded at once, `data:` JSON
 * payloads with `model` rewritten, `[DONE]` and comments unchanged. Counts the content characters and keeps the
 * final `usage` (when the upstream sends one) so the proxy can record tokens for streamed answers.
 *
 * Works on bytes: events end at a blank line (line endings LF, CRLF or CR, as in the SSE spec), which are ASCII
 * and so never split a UTF-8 character. Each byte is scanned once (the scan state survives between chunks) and
 * copied once, into its event; an unfinished event is kept as the chunks that hold it, and one growing past the
 * limit throws ResponseTooLarge instead of being buffered further.
 */
export class SseRelay {
  /** Chunks holding the unfinished event (the first may start before it), and the stream offset of the first. */
  private pending: Uint8Array[] = [];
  private pendingStart = 0;
  /** Stream offsets: bytes read so far, start of the unfinished event, end of its last complete line. */
  private pos = 0;
  private eventStart = 0;
  private contentEnd = 0;
  /** The last byte ended a line (or the event has none yet): a line ending now is a blank line. */
  private atLineStart = true;
  /** The last byte was CR: an LF now completes that CRLF. */
  private afterCr = false;
  private readonly decoder = new TextDecoder();
  /** UTF-8 bytes of generated text forwarded so far (generatedBytes): what an answer without `usage` is charged. */
  generatedBytes = 0;
  usage: { prompt_tokens?: number; completion_tokens?: number } | null = null;
  /** Choices seen, and those that ended (a `finish_reason`): when all have, the answer is complete. */
  private readonly choicesSeen = new Set<unknown>();
  private readonly choicesEnded = new Set<unknown>();
  /** The client is gone: events are still read (for the usage that may follow) but no longer written. */
  private detached = false;
  /** Bytes read since then (a usage chunk is small: the reader stops past a bound). */
  bytesAfterDetach = 0;
  /** How many choices the request asked for (`n`): the answer is complete only when that many have ended. */
  expectedChoices = 1;
  /** An event with choices (and no error) came: the answer has begun (before it, a failure can still fall back). */
  answering = false;
  /** An error event came (isErrorEvent: OpenAI's and OpenRouter's `error` field, vLLM's `object: "error"`). */
  sawError = false;
  /** … and it came before the answer began (in the same read as the answer's first event, order decides). */
  erredFirst = false;
  /** The stream's `data: [DONE]` came. */
  sawDone = false;

  /** `write` returns false when its consumer wants the caller to wait (a stream's backpressure). */
  constructor(
    private readonly model: string,
    private readonly write: (text: string) => boolean,
    private readonly limit: EventLimit = { bytes: Number.POSITIVE_INFINITY, setting: 'the event size limit' },
    /** The client did not ask for usage (stream-usage.ts): it is kept here and taken out of the relayed chunks. */
    private readonly hideUsage = false,
  ) {}

  /** Forwards every event `bytes` completes; false when a write asked to wait before more is pushed. */
  push(bytes: Uint8Array): boolean {
    if (this.detached) this.bytesAfterDetach += bytes.length;
    const base = this.pos;
    this.pending.push(bytes);
    this.pos += bytes.length;
    let ok = true;
    // Next LF / CR at or after i: each is searched again only once passed, so a chunk is scanned once in all.
    let nextLf = -2;
    let nextCr = -2;
    for (let i = 0; i < bytes.length;) {
      if (nextLf !== -1 && nextLf < i) nextLf = bytes.indexOf(LF, i);
      if (nextCr !== -1 && nextCr < i) nextCr = bytes.indexOf(CR, i);
      const j = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (j === -1) {
        this.atLineStart = false;
        this.afterCr = false;
        break;
      }
      if (j > i) {
        this.atLineStart = false;
        this.afterCr = false;
      }
      const at = base + j;
      if (bytes[j] === LF && this.afterCr) {
        // The LF of a CRLF whose CR was already taken as the line ending.
        this.afterCr = false;
        if (this.eventStart === at) this.eventStart = this.contentEnd = at + 1;
      } else if (this.atLineStart) {
        ok = this.dispatch(at + 1) && ok;
        this.afterCr = bytes[j] === CR;
      } else {
        this.contentEnd = at;
        this.atLineStart = true;
        this.afterCr = bytes[j] === CR;
      }
      i = j + 1;
    }
    this.dropBefore(this.eventStart);
    if (this.pos - this.eventStart > this.limit.bytes) throw new ResponseTooLarge('event', this.limit.setting, this.limit.bytes);
    return ok;
  }

  /** Every choice the stream began has ended (its `finish_reason` came): only the usage, if any, may follow. */
  get answerComplete(): boolean {
    return this.choicesEnded.size >= Math.max(1, this.expectedChoices) && this.choicesEnded.size === this.choicesSeen.size;
  }

  /** Stops writing: what follows is still read for its usage (the usage chunk of a client that left at the end). */
  detach(): void {
    this.detached = true;
  }

  /** The upstream ended: forwards an event it left unterminated. */
  end(): boolean {
    const text = this.decoder.decode(this.slice(this.eventStart, this.pos)).replace(/[\r\n]+$/, '');
    this.pending = [];
    this.pendingStart = this.eventStart = this.contentEnd = this.pos;
    this.atLineStart = true;
    this.afterCr = false;
    return text.trim() ? this.forward(text) : true;
  }

  /** The blank line ending at stream offset `next` closes the current event. */
  private dispatch(next: number): boolean {
    const size = this.contentEnd - this.eventStart;
    if (size > this.limit.bytes) throw new ResponseTooLarge('event', this.limit.setting, this.limit.bytes);
    const block = size > 0 ? this.decoder.decode(this.slice(this.eventStart, this.contentEnd)) : '';
    this.eventStart = this.contentEnd = next;
    this.atLineStart = true;
    return block ? this.forward(block) : true;
  }

  /** Stream bytes [from, to) of the pending chunks (a view when one chunk holds them). */
  private slice(from: number, to: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let start = this.pendingStart;
    for (const chunk of this.pending) {
      const end = start + chunk.length;
      if (end > from && start < to) parts.push(chunk.subarray(Math.max(from, start) - start, Math.min(to, end) - start));
      if (end >= to) break;
      start = end;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  private dropBefore(offset: number): void {
    let drop = 0;
    while (drop < this.pending.length && this.pendingStart + this.pending[drop].length <= offset) this.pendingStart += this.pending[drop++].length;
    if (drop > 0) this.pending = this.pending.slice(drop);
  }

  private forward(block: string): boolean {
    const out: string[] = [];
    let data = 0;
    let dropped = 0;
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line.startsWith('data:')) data++;
      if (!line.startsWith('data:')) {
        out.push(line);
        continue;
      }
      const payload = line.slice(5).trim();
      if (payload === '[DONE]' || payload === '') {
        if (payload === '[DONE]') this.sawDone = true;
        out.push(line);
        continue;
      }
      try {
        const chunk = JSON.parse(payload) as { model?: string; usage?: SseRelay['usage']; choices?: unknown; error?: unknown; object?: unknown };
        chunk.model = this.model;
        if (isErrorEvent(chunk)) {
          this.sawError = true;
          this.erredFirst ||= !this.answering;
        } else if (Array.isArray(chunk.choices) && chunk.choices.length > 0) this.answering = true;
        // Text the client never got is not charged by estimate (an upstream's own count still covers it).
        if (!this.detached) this.generatedBytes += generatedBytes(chunk.choices, 'delta');
        this.noteEnds(chunk.choices);
        if (chunk.usage) this.usage = chunk.usage;
        if (this.hideUsage && 'usage' in chunk) {
          // The usage chunk goes no further; from the others (Azure's prompt filter results, say) the field goes.
          if (isUsageOnly(chunk)) {
            dropped++;
            continue;
          }
          delete chunk.usage;
        }
        out.push(`data: ${JSON.stringify(chunk)}`);
      } catch {
        // Not JSON, but forwarded: what an answer without usage is charged counts it as text.
        this.generatedBytes += Buffer.byteLength(payload);
        out.push(line);
      }
    }
    // An event whose every data line was the hidden usage is not sent at all.
    if ((dropped > 0 && dropped === data) || this.detached) return true;
    return this.write(`${out.join('\n')}\n\n`);
  }

  private noteEnds(choices: unknown): void {
    if (!Array.isArray(choices)) return;
    for (const c of choices as unknown[]) {
      if (typeof c !== 'object' || c === null) continue;
      const { index, finish_reason: reason } = c as { index?: unknown; finish_reason?: unknown };
      this.choicesSeen.add(index);
      if (reason !== null && reason !== undefined) this.choicesEnded.add(index);
    }
  }
}

/** A chunk's envelope fields: a chunk with usage, no choices and nothing else carries only the usage. */
const ENVELOPE = new Set(['id', 'object', 'created', 'model', 'system_fingerprint', 'service_tier', 'obfuscation', 'choices', 'usage']);

/** The chunk an upstream adds when asked for usage: a usage object, no choices, nothing else of its own. */
function isUsageOnly(chunk: { usage?: unknown; choices?: unknown }): boolean {
  if (typeof chunk.usage !== 'object' || chunk.usage === null) return false;
  if (chunk.choices !== undefined && !(Array.isArray(chunk.choices) && chunk.choices.length === 0)) return false;
  return Object.keys(chunk).every((k) => ENVELOPE.has(k));
}

/**
 * An event that reports a failure instead of (or beside) the answer: an `error` field that says something (OpenAI's
 * and OpenRouter's mid-stream errors; OpenRouter's carry choices too), or vLLM's `{"object": "error", …}`.
 */
export function isErrorEvent(chunk: { error?: unknown; object?: unknown }): boolean {
  const e = chunk.error;
  return chunk.object === 'error' || (e !== undefined && e !== null && e !== false && e !== '');
}

/**
 * Reads the stream into `relay` (which holds what it forwards) until the answer begins. MalformedAnswer, so that the
 * attempt can fall back: an error event first, an end (or `[DONE]`) first, or more than `maxBytes` read without an
 * answer (keep-alives forever).
 */
export async function untilAnswering(chunks: AsyncIterator<Uint8Array>, relay: SseRelay, first: Uint8Array, maxBytes: number) {
  let read = first.length;
  relay.push(first);
  while (!relay.answering && !relay.sawError && !relay.sawDone) {
    const next = await chunks.next();
    if (next.done) {
      relay.end();
      break;
    }
    read += next.value.length;
    if (read > maxBytes) throw new MalformedAnswer(`the upstream's stream sent more than ${maxBytes} bytes before its answer began`, true);
    relay.push(next.value);
  }
  // Nothing has reached the client yet: an error event read with the answer's beginning fails the attempt too, so
  // that another attempt or model can answer whole.
  if (relay.erredFirst) throw new MalformedAnswer("the upstream's stream began with an error event", true);
  if (relay.sawError) throw new MalformedAnswer("the upstream's stream sent an error event before its answer reached the client", true);
  if (!relay.answering) throw new MalformedAnswer("the upstream's stream ended without an answer", true);
}
