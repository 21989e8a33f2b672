import { MAX_RETRY_AFTER_MS, retryAfterMs, upstreamErrorObject } from './upstream-error.js';

describe("upstreamErrorObject: an upstream's refusal in OpenAI's error object, whichever server sent it", () => {
  it("passes OpenAI's own error object as sent", () => {
    const error = { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_value', extra: 1 };
    expect(upstreamErrorObject(JSON.stringify({ error }))).toEqual(error);
  });

  it("keeps the message of TGI's, vLLM's, FastAPI's and a bare one", () => {
    expect(upstreamErrorObject(JSON.stringify({ error: 'Input validation error: inputs too long', error_type: 'validation' }))).toEqual({
      message: 'Input validation error: inputs too long',
      type: 'validation',
      param: null,
      code: null,
    });
    const vllm = { object: 'error', message: "This model's maximum context length is 4096 tokens", type: 'BadRequestError', param: null, code: 400 };
    expect(upstreamErrorObject(JSON.stringify(vllm))).toEqual({ message: vllm.message, type: 'BadRequestError', param: null, code: null });
    const fastapi = { detail: [{ loc: ['body', 'messages'], msg: 'field required', type: 'value_error.missing' }] };
    expect(upstreamErrorObject(JSON.stringify(fastapi))).toMatchObject({ message: JSON.stringify(fastapi.detail), type: 'invalid_request_error' });
    expect(upstreamErrorObject('{"message":"quota exceeded"}')).toMatchObject({ message: 'quota exceeded' });
  });

  it('says nothing for a body that is not JSON or says nothing, and bounds what it takes', () => {
    for (const text of ['', '<html>502</html>', '[1]', 'null', '{"ok":false}']) expect(upstreamErrorObject(text)).toBeUndefined();
    expect((upstreamErrorObject(JSON.stringify({ detail: 'x'.repeat(10_000) })) as { message: string }).message).toHaveLength(4000);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  it("reads OpenAI's retry-after-ms, then retry-after in seconds or as a date", () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': '13' }, now)).toBe(13_000);
    expect(retryAfterMs({ 'retry-after': 'Mon, 07 Dec 2026 12:00:20 GMT' }, now)).toBe(20_000);
    expect(retryAfterMs({ 'retry-after': 'Mon, 07 Dec 2026 11:00:00 GMT' }, now)).toBe(0);
  });
  it('says nothing for what it cannot read, and caps a long wait', () => {
    for (const v of [undefined, '', 'soon', '-5']) expect(retryAfterMs({ 'retry-after': v }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': '86400' }, now)).toBe(MAX_RETRY_AFTER_MS);
  });
});
