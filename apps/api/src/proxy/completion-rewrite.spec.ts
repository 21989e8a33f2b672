import { completionAnswer } from './completion-answer.js';
import { completionAsEvents } from './completion-events.js';
import { MalformedAnswer, rewriteCompletion } from './completion-rewrite.js';
import { CompletionThread, CompletionThreadFailed } from './completion-thread.js';

const answer = (content: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ id: 'c', object: 'chat.completion', model: 'up', choices: [{ index: 0, message: { role: 'assistant', content } }], ...extra }));
const same = (a: { bytes: Uint8Array }, b: { bytes: Uint8Array }) =>
  expect({ ...a, bytes: Buffer.from(a.bytes).toString() }).toEqual({ ...b, bytes: Buffer.from(b.bytes).toString() });

describe('rewriteCompletion', () => {
  it('sets the model, keeps everything else as it was, and reads the usage, the generated text and what a cascade examines', () => {
    const raw = answer('Hé 👋', { usage: { prompt_tokens: 3, completion_tokens: 5 }, system_fingerprint: 'fp' });
    const r = rewriteCompletion(raw, 'mine', 'json');
    const sent = JSON.parse(Buffer.from(r.bytes).toString('utf8'));
    expect(sent).toEqual({ ...JSON.parse(raw.toString('utf8')), model: 'mine' });
    expect([r.promptTokens, r.completionTokens, r.generatedBytes, r.examined]).toEqual([3, 5, Buffer.byteLength('Hé 👋'), undefined]);
    expect(rewriteCompletion(raw, 'mine', 'examined').examined).toEqual(completionAnswer(sent));
  });

  it('passes on whatever usage an upstream sent (usageTokens checks it) and refuses an answer that is not a JSON object', () => {
    // Without quoting the body.
    expect(() => rewriteCompletion(Buffer.from('<html>502 internal-gw.corp</html>'), 'm', 'json')).toThrow(
      "the upstream's answer is not a JSON object (not valid JSON)",
    );
    const r = rewriteCompletion(answer('x', { usage: { prompt_tokens: 'many' } }), 'm', 'json');
    expect([r.promptTokens, r.completionTokens]).toEqual(['many', undefined]);
    expect(rewriteCompletion(answer('x', { usage: null }), 'm', 'json').promptTokens).toBeUndefined();
    const deep = `{"choices":[{}],"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    for (const bad of ['[1]', 'null', '"text"', '3', '{"a":', deep])
      expect(() => rewriteCompletion(Buffer.from(bad), 'm', 'json')).toThrow(
        expect.objectContaining({ name: 'MalformedAnswer', message: expect.stringContaining('not a JSON object') }),
      );
  });

  it("refuses a 2xx that is not its endpoint's answer: a completion without choices, an embeddings answer without data", () => {
    for (const bad of ['{"error":{"message":"overloaded"}}', '{"choices":[]}', '{"choices":null}', '{"object":"list","data":[]}'])
      for (const form of ['json', 'examined'] as const)
        expect(() => rewriteCompletion(Buffer.from(bad), 'm', form)).toThrow(
          expect.objectContaining({ name: 'MalformedAnswer', message: expect.stringContaining('no choices') }),
        );
    expect(() => rewriteCompletion(Buffer.from('{"error":{"message":"overloaded"}}'), 'm', 'embeddings')).toThrow(
      expect.objectContaining({ name: 'MalformedAnswer', message: expect.stringContaining('no data') }),
    );
    const embedded = rewriteCompletion(Buffer.from('{"object":"list","data":[],"usage":{"prompt_tokens":3,"total_tokens":3}}'), 'e', 'embeddings');
    expect([JSON.parse(Buffer.from(embedded.bytes).toString()).model, embedded.totalTokens]).toEqual(['e', 3]);
  });

  it('makes the events a stream of the answer would have been, with the model set, and refuses one without choices', () => {
    const raw = answer('streamed', { usage: { prompt_tokens: 2, completion_tokens: 1 } });
    const r = rewriteCompletion(raw, 'mine', 'events');
    expect(Buffer.from(r.bytes).toString('utf8')).toBe(completionAsEvents({ ...JSON.parse(raw.toString('utf8')), model: 'mine' }));
    expect([r.promptTokens, r.completionTokens, r.generatedBytes]).toEqual([2, 1, Buffer.byteLength('streamed')]);
    for (const bad of ['{"error":{"message":"overloaded"}}', '{"choices":[]}', '{"choices":{}}'])
      expect(() => rewriteCompletion(Buffer.from(bad), 'm', 'events')).toThrow(
        expect.objectContaining({ name: 'MalformedAnswer', message: expect.stringContaining('has no choices') }),
      );
    // A 26 KB answer whose 20 KB id would be repeated over 2,000 choices (40 MB of events) is refused; 128 real choices are not.
    const blown = JSON.stringify({ id: 'i'.repeat(20_000), choices: Array.from({ length: 2000 }, () => ({})) });
    expect(() => rewriteCompletion(Buffer.from(blown), 'm', 'events')).toThrow(
      expect.objectContaining({ name: 'MalformedAnswer', message: expect.stringContaining('2000 choices') }),
    );
    const many = answer('x', { choices: Array.from({ length: 128 }, (_, index) => ({ index, message: { role: 'assistant', content: 'x' } })) });
    expect(
      Buffer.from(rewriteCompletion(many, 'm', 'events').bytes)
        .toString('utf8')
        .match(/^data: /gm),
    ).toHaveLength(129);
  });
});

describe('CompletionThread', () => {
  it('rewrites an answer below its threshold here, the same as rewriteCompletion', async () => {
    const t = new CompletionThread(1024);
    const raw = answer('small');
    same(await t.rewrite(raw, 'mine', 'examined'), rewriteCompletion(Buffer.from(raw), 'mine', 'examined'));
    await expect(t.rewrite(Buffer.from('[]'), 'm', 'json')).rejects.toBeInstanceOf(MalformedAnswer);
    await t.close();
  });

  it('rewrites one above it on its thread, in order, and the same way', async () => {
    const t = new CompletionThread(1024);
    try {
      // A buffer of its own (moved to the thread) and one in Node's shared pool (copied there).
      const raws = [answer('a'.repeat(5000)), answer('b'.repeat(9000), { usage: { prompt_tokens: 4, completion_tokens: 1 } }), answer('c'.repeat(1200))];
      const expected = raws.map((raw) => rewriteCompletion(Buffer.from(raw), 'mine', 'examined'));
      const got = await Promise.all(raws.map((raw) => t.rewrite(raw, 'mine', 'examined')));
      for (const [i, r] of got.entries()) {
        expect(Buffer.isBuffer(r.bytes)).toBe(true);
        same(r, expected[i]);
      }
      await expect(t.rewrite(Buffer.from(`[${' '.repeat(2000)}]`), 'm', 'json')).rejects.toBeInstanceOf(MalformedAnswer);
      expect((await t.rewrite(answer('d'.repeat(3000)), 'again', 'json')).generatedBytes).toBe(3000);
      // A stream request answered with one large completion: its events are made on the thread too.
      const big = answer('e'.repeat(4000));
      same(await t.rewrite(Buffer.from(big), 'mine', 'events'), rewriteCompletion(big, 'mine', 'events'));
      await expect(t.rewrite(Buffer.from(`{"error":"${'x'.repeat(2000)}"}`), 'm', 'events')).rejects.toBeInstanceOf(MalformedAnswer);
    } finally {
      await t.close();
    }
  });

  it('answers an aborted call at once, lets the answers under way finish on close, and rewrites here after it', async () => {
    const t = new CompletionThread(1024);
    const ac = new AbortController();
    const slow = t.rewrite(answer('e'.repeat(8 * 1024 * 1024)), 'm', 'json');
    const aborted = t.rewrite(answer('f'.repeat(4 * 1024 * 1024)), 'm', 'json', ac.signal);
    ac.abort(new Error('client gone'));
    await expect(aborted).rejects.toThrow('client gone');
    const closing = t.close();
    expect((await slow).generatedBytes).toBe(8 * 1024 * 1024);
    await closing;
    same(await t.rewrite(answer('g'.repeat(3000)), 'm', 'json'), rewriteCompletion(answer('g'.repeat(3000)), 'm', 'json'));
  });

  it("takes tenants in turns: one tenant's many large answers delay another's by at most one", async () => {
    const t = new CompletionThread(1024);
    try {
      const done: string[] = [];
      const call = (tenant: string, n: number) =>
        t.rewrite(answer('j'.repeat(2 * 1024 * 1024)), 'm', 'json', undefined, tenant).then(() => done.push(`${tenant}${n}`));
      const calls = [call('a', 1), call('a', 2), call('a', 3), call('a', 4), call('b', 1), call('b', 2)];
      await Promise.all(calls);
      // a1 was on the thread when b's arrived; then b and a alternate while both wait.
      expect(done).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
      // An aborted answer that waits leaves its line without being processed.
      const ac = new AbortController();
      const first = t.rewrite(answer('k'.repeat(2 * 1024 * 1024)), 'm', 'json', undefined, 'a');
      const waiting = t.rewrite(answer('l'.repeat(2 * 1024 * 1024)), 'm', 'json', ac.signal, 'b');
      ac.abort(new Error('gone'));
      await expect(waiting).rejects.toThrow('gone');
      expect((await first).generatedBytes).toBe(2 * 1024 * 1024);
    } finally {
      await t.close();
    }
  });

  it('fails an answer as ours when no thread can start, and is not left waiting on it', async () => {
    const t = new CompletionThread(1024);
    const self = t as unknown as { thread: () => unknown };
    const start = self.thread.bind(t);
    self.thread = () => {
      throw new Error('no threads');
    };
    try {
      await expect(t.rewrite(answer('m'.repeat(3000)), 'm', 'json')).rejects.toBeInstanceOf(CompletionThreadFailed);
      self.thread = start;
      expect((await t.rewrite(answer('n'.repeat(3000)), 'm', 'json')).generatedBytes).toBe(3000);
    } finally {
      await t.close();
    }
  });

  it('fails the answers under way with CompletionThreadFailed when the thread dies, and starts a new one for the next', async () => {
    const t = new CompletionThread(1024);
    try {
      const under = t.rewrite(answer('h'.repeat(8 * 1024 * 1024)), 'm', 'json');
      await (t as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await expect(under).rejects.toBeInstanceOf(CompletionThreadFailed);
      expect((await t.rewrite(answer('i'.repeat(3000)), 'm', 'json')).generatedBytes).toBe(3000);
    } finally {
      await t.close();
    }
  });
});
