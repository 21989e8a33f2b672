import { parseArgs, UsageError } from './args.js';

const base = ['--data', 'd.jsonl', '--algorithm', 'linucb'];

describe('replay args: warm start', () => {
  it('has no prior by default, and the default weight of the prior endpoint', () => {
    const a = parseArgs(base);
    expect(a.priorData).toBeUndefined();
    expect(a.priorSplit).toBeUndefined();
    expect(a.priorWeight).toBe(100);
  });

  it('reads --prior-data, --prior-split and --prior-weight', () => {
    expect(parseArgs([...base, '--prior-data', 'p.jsonl'])).toMatchObject({ priorData: 'p.jsonl', priorSplit: undefined, priorWeight: 100 });
    expect(parseArgs([...base, '--prior-split', '0.8', '--prior-weight', '50'])).toMatchObject({ priorSplit: 0.8, priorWeight: 50 });
    // The other flags keep their meaning.
    expect(parseArgs([...base, '--prior-split', '0.5', '--seeds', '2', '--sweep', 'cost=0,0.1'])).toMatchObject({ seeds: 2, priorSplit: 0.5 });
  });

  it.each([
    [['--prior-data', 'p.jsonl', '--prior-split', '0.5'], /cannot be combined/],
    [['--prior-split', '0'], /0 < F < 1/],
    [['--prior-split', '1'], /0 < F < 1/],
    [['--prior-split', 'half'], /0 < F < 1/],
    [['--prior-split', '0.5', '--prior-weight', '0'], /--prior-weight/],
    [['--prior-split', '0.5', '--prior-weight', '201'], /--prior-weight/],
    [['--prior-weight', '50'], /needs --prior-data or --prior-split/],
    [['--prior-data'], /needs a value/],
  ])('rejects %j', (extra, message) => {
    expect(() => parseArgs([...base, ...extra])).toThrow(UsageError);
    expect(() => parseArgs([...base, ...extra])).toThrow(message);
  });
});

describe('replay args: cascade', () => {
  it('reads --cascade and --cascade-steps (default 2)', () => {
    expect(parseArgs(base).cascade).toBeUndefined();
    expect(parseArgs(base).cascadeSteps).toBe(2);
    expect(parseArgs([...base, '--cascade', 'routed', '--cascade-steps', '3', '--prior-split', '0.8'])).toMatchObject({
      cascade: 'routed',
      cascadeSteps: 3,
      priorSplit: 0.8,
    });
  });

  it.each([
    [['--cascade', 'always'], /--cascade: unknown "always"/],
    [['--cascade', 'check', '--cascade-steps', '1'], /--cascade-steps must be an integer ≥ 2/],
    [['--cascade', 'routed', '--via-http', 'http://x'], /no --via-http/],
    [['--cascade', 'routed', '--svg', 'o.svg'], /no --svg/],
  ])('rejects %j', (extra, message) => {
    expect(() => parseArgs([...base, ...extra])).toThrow(message);
  });
});
