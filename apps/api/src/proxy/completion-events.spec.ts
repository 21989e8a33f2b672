import { completionAsEvents } from './completion-events.js';

const events = (s: string) =>
  s
    .split('\n\n')
    .filter(Boolean)
    .map((e) => (e === 'data: [DONE]' ? '[DONE]' : (JSON.parse(e.slice('data: '.length)) as Record<string, unknown>)));

describe('completionAsEvents', () => {
  it('makes one chunk per choice with its whole message as the delta, then the usage, then [DONE]', () => {
    const out = events(
      completionAsEvents({
        id: 'c1',
        object: 'chat.completion',
        created: 5,
        model: 'small',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' },
          {
            index: 1,
            message: { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      }),
    );
    expect(out).toEqual([
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 5,
        model: 'small',
        choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, logprobs: null, finish_reason: 'stop' }],
      },
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 5,
        model: 'small',
        choices: [
          {
            index: 1,
            delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
            logprobs: null,
            finish_reason: 'tool_calls',
          },
        ],
      },
      {
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 5,
        model: 'small',
        choices: [],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      },
      '[DONE]',
    ]);
  });

  it('an answer without choices or usage is just [DONE]', () => {
    expect(events(completionAsEvents({ id: 'c2' }))).toEqual(['[DONE]']);
  });
});
