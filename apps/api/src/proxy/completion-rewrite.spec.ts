import { rewriteCompletion } from './completion-rewrite.js';
import { CompletionThread } from './completion-thread.js';

const answer = (content: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ id: 'c', object: 'chat.completion', model: 'up', choices: [{ index: 0, message: { role: 'assistant', content } }], ...extra }));

describe('rewriteCompletion', () => {
  it('sets the model, keeps everything else byte for byte as JSON, and reads the usage and the generated text', () => {
    const raw = answer('Hé 👋', { usage: { prompt_tokens: 3, completion_tokens: 5 }, system_fingerprint: 'fp' });
    const r = rewriteCompletion(raw, 'mine', false);
    const sent = JSON.parse(Buffer.from(r.bytes).toString('utf8'));
    expect(sent).toEqual({ ...JSON.parse(raw.toString('utf8')), model: 'mine' });
    expect([r.promptTokens, r.completionTokens, r.chars, r.body]).toEqual([3, 5, 'Hé 👋'.length, undefined]);
    expect(rewriteCompletion(raw, 'mine', true).body).toEqual(sent);
  });

  it('passes on whatever usage an upstream sent (usageTokens checks it) and refuses an answer that is not an object', () => {
    const r = rewriteCompletion(answer('x', { usage: { prompt_tokens: 'many' } }), 'm', false);
    expect([r.promptTokens, r.completionTokens]).toEqual(['many', undefined]);
    expect(rewriteCompletion(answer('x', { usage: null }), 'm', false).promptTokens).toBeUndefined();
    for (const bad of ['[1]', 'null', '"text"', '3']) expect(() => rewriteCompletion(Buffer.from(bad), 'm', false)).toThrow('not an object');
    expect(() => rewriteCompletion(Buffer.from('{"a":'), 'm', false)).toThrow(SyntaxError);
  });
});

describe('CompletionThread', () => {
  it('rewrites an answer below its threshold here, the same as rewriteCompletion', async () => {
    const t = new CompletionThread(1024);
    const raw = answer('small');
    const expected = rewriteCompletion(Buffer.from(raw), 'mine', true);
    const r = await t.rewrite(raw, 'mine', true);
    expect({ ...r, bytes: Buffer.from(r.bytes).toString() }).toEqual({ ...expected, bytes: Buffer.from(expected.bytes).toString() });
    await expect(t.rewrite(Buffer.from('[]'), 'm', false)).rejects.toThrow('not an object');
    await t.close();
  });

  it('rewrites one above it on its thread, in order, and the same way', async () => {
    const t = new CompletionThread(1024);
    try {
      // A buffer of its own (moved to the thread) and one in Node's shared pool (copied there).
      const raws = [answer('a'.repeat(5000)), answer('b'.repeat(9000), { usage: { prompt_tokens: 4, completion_tokens: 1 } }), answer('c'.repeat(1200))];
      const expected = raws.map((raw) => rewriteCompletion(Buffer.from(raw), 'mine', true));
      const got = await Promise.all(raws.map((raw) => t.rewrite(raw, 'mine', true)));
      for (const [i, r] of got.entries()) {
        expect(Buffer.isBuffer(r.bytes)).toBe(true);
        expect({ ...r, bytes: Buffer.from(r.bytes).toString() }).toEqual({ ...expected[i], bytes: Buffer.from(expected[i].bytes).toString() });
      }
      await expect(t.rewrite(Buffer.from(`[${' '.repeat(2000)}]`), 'm', false)).rejects.toThrow('not an object');
      expect((await t.rewrite(answer('d'.repeat(3000)), 'again', false)).chars).toBe(3000);
    } finally {
      await t.close();
    }
  });
});
