import { EmbeddingFailure, MAX_EMBEDDING_LENGTH, MAX_EMBEDDING_MAGNITUDE, parseEmbedding } from './embeddings-client.js';

const answer = (embedding: unknown) => JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding }] });
const failure = (text: string) => {
  try {
    parseEmbedding(text);
  } catch (err) {
    return err;
  }
  return null;
};

describe('parseEmbedding', () => {
  it('reads data[0].embedding of an OpenAI answer into a Float64Array', () => {
    const e = parseEmbedding(answer([0.5, -1, 0, 1e-9]));
    expect(e).toBeInstanceOf(Float64Array);
    expect(Array.from(e)).toEqual([0.5, -1, 0, 1e-9]);
  });

  it('refuses anything else as an upstream error (never a context of garbage)', () => {
    const bad = [
      'not json',
      'null',
      JSON.stringify({ data: [] }),
      JSON.stringify({ data: [{}] }),
      answer([]),
      answer('AAAAAA=='), // base64: not asked for
      answer([1, '2']),
      answer([1, null]),
      answer([MAX_EMBEDDING_MAGNITUDE * 2]),
      answer(new Array(MAX_EMBEDDING_LENGTH + 1).fill(0)),
    ];
    for (const text of bad) {
      const err = failure(text);
      expect(err).toBeInstanceOf(EmbeddingFailure);
      expect((err as EmbeddingFailure).reason).toBe('error');
    }
  });
});
