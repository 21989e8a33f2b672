import { streamUsage } from './stream-usage.js';

describe('streamUsage', () => {
  it("asks the upstream for the usage of a stream, keeping the client's other stream options, and hides it from that client", () => {
    expect(streamUsage({}, {})).toEqual({ options: { include_usage: true }, hide: true });
    expect(streamUsage({ streamUsage: true }, { stream_options: { other: 1 } })).toEqual({ options: { other: 1, include_usage: true }, hide: true });
    expect(streamUsage({}, { stream_options: { include_usage: false } })).toEqual({ options: { include_usage: true }, hide: true });
    // null is "not set", as OpenAI takes it (generated clients send it for every unset field).
    expect(streamUsage({}, { stream_options: null })).toEqual({ options: { include_usage: true }, hide: true });
  });

  it('changes nothing for a client that asked itself, a model whose upstream refuses the field, or stream options it cannot read (not an object, include_usage not a boolean)', () => {
    expect(streamUsage({}, { stream_options: { include_usage: true } })).toEqual({ hide: false });
    expect(streamUsage({ streamUsage: false }, {})).toEqual({ hide: false });
    for (const given of ['yes', 1, [true], { include_usage: 'true' }, { include_usage: 1 }, { include_usage: null }])
      expect(streamUsage({}, { stream_options: given })).toEqual({ hide: false });
  });
});
