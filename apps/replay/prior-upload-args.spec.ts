import { parsePriorUploadArgs, PriorUploadUsageError } from './prior-upload-args.js';

const base = ['--url', 'http://127.0.0.1:3000', '--policy', 'p', '--data', 'd.jsonl'];

describe('prior:upload args', () => {
  it('has the endpoint limits as defaults and takes the key from ADMIN_API_KEY', () => {
    expect(parsePriorUploadArgs(base, { ADMIN_API_KEY: 'k' })).toEqual({
      url: 'http://127.0.0.1:3000',
      adminKey: 'k',
      policy: 'p',
      data: 'd.jsonl',
      maxWeight: 100,
      chunkRecords: 10_000,
      chunkBytes: 1_000_000,
    });
    expect(parsePriorUploadArgs([...base, '--admin-key', 'x', '--max-weight', '20', '--chunk-records', '500'], { ADMIN_API_KEY: 'k' })).toMatchObject({
      adminKey: 'x',
      maxWeight: 20,
      chunkRecords: 500,
    });
  });

  it.each([
    [['--policy', 'p', '--data', 'd'], /--url is required/],
    [['--url', 'nope', '--policy', 'p', '--data', 'd'], /not a URL/],
    [[...base, '--chunk-records', '10001'], /--chunk-records/],
    [[...base, '--max-weight', '0'], /--max-weight/],
    [[...base, '--append', 'true'], /unknown flag/],
    [[...base, '--data'], /needs a value/],
  ])('rejects %j', (argv, message) => {
    expect(() => parsePriorUploadArgs(argv)).toThrow(PriorUploadUsageError);
    expect(() => parsePriorUploadArgs(argv)).toThrow(message);
  });
});
