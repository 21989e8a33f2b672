import { type Model } from '@app/contracts';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * How a streamed call's usage is obtained. An OpenAI-compatible upstream reports the usage of a stream only when
 * asked (`stream_options.include_usage`), in a last chunk whose `choices` is empty (and `usage: null` on every
 * other chunk); without it the call could only be charged by an estimate from its text (about four characters a
 * token, a quarter of the tokens of Chinese text). So the proxy asks for it, unless the model's registry entry
 * says its upstream refuses the field (`streamUsage: false`), and takes it out of the stream again for a client
 * that did not ask: such a client may not expect a chunk without choices.
 */
export interface StreamUsage {
  /** The `stream_options` to send upstream (absent: send the client's parameters unchanged). */
  options?: Record<string, unknown>;
  /** The relay removes the usage the client did not ask for. */
  hide: boolean;
}

export function streamUsage(model: Pick<Model, 'streamUsage'>, params: Record<string, unknown>): StreamUsage {
  // `null` is "not set" (as OpenAI takes it; generated clients send it for every unset field). Any other value that
  // is not an object with a boolean `include_usage` was refused with a 400 (chatRequestSchema); checked again here.
  const given = params.stream_options ?? undefined;
  if (model.streamUsage === false) return { hide: false };
  if (given !== undefined && (!isPlainObject(given) || !['undefined', 'boolean'].includes(typeof given.include_usage))) return { hide: false };
  if (given?.include_usage === true) return { hide: false };
  return { options: { ...given, include_usage: true }, hide: true };
}
