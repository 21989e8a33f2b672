import { answerSignals, ANSWER_SIGNALS } from './answer-signals.js';
import { evaluateArithmetic, parseNumber } from './arithmetic.js';
import { checkAnnotations, MAX_EVALUATED_ANNOTATIONS } from './calculator-annotations.js';
import { codeShape, unbalancedBrackets } from './code-answer.js';
import { finalAnswerLine } from './final-answer-line.js';
import { containsValidJson, MAX_JSON_DEPTH } from './json-answer.js';
import { hedgeCount, isRefusal } from './refusal.js';
import { repeatedLineShare } from './repetition.js';
import { logprobSignals } from './token-logprobs.js';
import { createRng } from '@app/bandits';

describe('answer signals', () => {
  it('evaluates calculator expressions without eval, rejects anything else', () => {
    expect(evaluateArithmetic('9*2')).toBe(18);
    expect(evaluateArithmetic('(3 + 4) * 2 - 1')).toBe(13);
    expect(evaluateArithmetic('2^3^2')).toBe(512);
    expect(evaluateArithmetic('-4 + 1,000 / 8')).toBe(121);
    expect(evaluateArithmetic('50%*200')).toBe(100);
    expect(evaluateArithmetic('3 × 4 ÷ 2')).toBe(6);
    expect(evaluateArithmetic('1/0')).toBeUndefined();
    expect(evaluateArithmetic('x+1')).toBeUndefined();
    expect(evaluateArithmetic('(1+2')).toBeUndefined();
    expect(evaluateArithmetic('process.exit()')).toBeUndefined();
    expect(evaluateArithmetic('')).toBeUndefined();
  });

  it('recomputes <<expr=value>> annotations and checks the #### line against the working', () => {
    const good = 'She has 16 - 3 = <<16-3=13>>13 left.\nShe sells 13 * 2 = $<<13*2=26>>26.\n#### 26';
    const slip = 'She has 16 - 3 = <<16-3=12>>12 left.\nShe sells 12 * 2 = $<<12*2=24>>24.\n#### 24';
    const drift = 'She has <<16-3=13>>13 left and sells <<13*2=26>>26.\n#### 28';
    expect(checkAnnotations(good)).toMatchObject({ count: 2, wrong: 0, last: 26 });
    expect(checkAnnotations(slip)).toMatchObject({ count: 2, wrong: 1, last: 24 });
    expect(finalAnswerLine(good)).toEqual({ present: true, numeric: true, consistent: true });
    expect(finalAnswerLine(drift).consistent).toBe(false);
    expect(finalAnswerLine('So the answer is 7.\n#### 7').consistent).toBe(true);
    expect(finalAnswerLine('#### seven')).toEqual({ present: true, numeric: false, consistent: false });
    expect(finalAnswerLine('The answer is 7.').present).toBe(false);
  });

  it('bounds the work an answer can ask for: annotations recomputed up to a number, JSON nested up to a depth', () => {
    const right = '<<2+2=4>> '.repeat(MAX_EVALUATED_ANNOTATIONS);
    // A slip among the first annotations is found; one past the recomputed ones is counted, not recomputed.
    expect(checkAnnotations(`<<2+2=5>> ${right}`)).toMatchObject({ count: MAX_EVALUATED_ANNOTATIONS + 1, wrong: 1 });
    expect(checkAnnotations(`${right}<<2+2=5>>`)).toMatchObject({ count: MAX_EVALUATED_ANNOTATIONS + 1, wrong: 0, last: 5 });
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(containsValidJson(nested(MAX_JSON_DEPTH))).toBe(true);
    expect(containsValidJson(nested(MAX_JSON_DEPTH + 1))).toBe(false);
    // Brackets inside strings do not count toward the depth.
    expect(containsValidJson(JSON.stringify({ a: '['.repeat(1000) }))).toBe(true);
  });

  it('flags refusals, hedges, broken JSON, code shape, repetition and log-probabilities', () => {
    expect(isRefusal("I'm sorry, but I can't help with that.")).toBe(true);
    expect(isRefusal('Sure: the answer is 4.')).toBe(false);
    expect(hedgeCount("I'm not sure, it depends; probably 4.")).toBe(3);
    expect(containsValidJson('Here:\n```json\n{"a": [1, 2]}\n```')).toBe(true);
    expect(containsValidJson('{"a": [1, 2}')).toBe(false);
    expect(codeShape('```python\ndef f(x):\n    return (x + 1\n```')).toEqual({ fenced: true, definesFunction: true, unbalanced: true });
    expect(codeShape('```python\ndef f(x):\n    return "(" + x\n```').unbalanced).toBe(false);
    expect(repeatedLineShare('the same line again\nthe same line again\nanother one here')).toBeCloseTo(1 / 3, 12);
    expect(logprobSignals([-0.1, -2, Number.NaN])).toEqual({ meanProb: Math.exp(-1.05), minProb: Math.exp(-2) });
    expect(logprobSignals([])).toBeUndefined();
  });

  it('assembles every signal in [0, 1] in ANSWER_SIGNALS order', () => {
    const { named, vector } = answerSignals({ prompt: 'Return JSON with the total.', answer: 'The total is <<2+2=5>>5.\n#### 5', logprobs: [-0.5] });
    expect(vector.length).toBe(ANSWER_SIGNALS.length);
    ANSWER_SIGNALS.forEach((k, i) => expect(vector[i]).toBe(named[k]));
    for (const v of vector) expect(v >= 0 && v <= 1).toBe(true);
    expect(named.annotated).toBe(1);
    expect(named.annotationWrong).toBe(1);
    expect(named.finalLine).toBe(1);
    expect(named.finalLineInconsistent).toBe(0);
    expect(named.jsonInvalid).toBe(1);
    expect(named.logprobsKnown).toBe(1);
    expect(named.logprobMeanProb).toBeCloseTo(Math.exp(-0.5), 12);
  });

  it('finds a #### line after blank lines and trims it; a long line is not a number', () => {
    expect(finalAnswerLine('Working: 3 + 4 = 7\n\n  \n  ####   7  \n\n')).toEqual({ present: true, numeric: true, consistent: true });
    expect(finalAnswerLine(`#### 1${' '.repeat(200)}`).numeric).toBe(true);
    expect(finalAnswerLine(`#### 1${' '.repeat(200)}x`).numeric).toBe(false);
  });

  it('reads the #### line exactly as the plain pattern does, the number below a bare marker included', () => {
    // The plain definition (its blank runs cross lines and compete: time growing with the square of the length).
    const NUMBERS = /-?\$?\d[\d,]*(?:\.\d+)?/g;
    const plain = (answer: string) => {
      const m = /^\s*####\s*(.*?)\s*$/m.exec(answer);
      if (!m) return { present: false, numeric: false, consistent: false };
      const value = parseNumber(m[1]);
      if (value === undefined) return { present: true, numeric: false, consistent: false };
      const working = answer.slice(0, m.index);
      let reference = checkAnnotations(working).last;
      if (reference === undefined) {
        const nums = [...working.replace(/<<[^<>]*>>/g, ' ').matchAll(NUMBERS)];
        reference = nums.length > 0 ? parseNumber(nums[nums.length - 1][0]) : undefined;
      }
      return {
        present: true,
        numeric: true,
        consistent: reference !== undefined && Math.abs(value - reference) <= Math.max(1e-6, 1e-4 * Math.max(Math.abs(value), Math.abs(reference))),
      };
    };
    const rng = createRng(13);
    const alphabet = ['####', '#', ' ', '\t', '\n', '\r', '\u2028', '\u00a0', '\v', '1', '7', '.', 'x', '<<3+4=7>>', '<<', '=', '>>', '<<2=x>>', '%'];
    for (let t = 0; t < 20_000; t++) {
      const answer = Array.from({ length: 1 + rng.int(14) }, () => alphabet[rng.int(alphabet.length)]).join('');
      expect([answer, finalAnswerLine(answer), finalAnswerLine(answer, checkAnnotations(answer))]).toEqual([answer, plain(answer), plain(answer)]);
    }
    expect(finalAnswerLine('3 + 4 = 7\n####\n\n  7\n')).toEqual({ present: true, numeric: true, consistent: true });
  });

  it('strips string literals before balancing brackets exactly as the plain pattern does', () => {
    // The plain definition: literals removed by one pattern (quadratic on long lines of unclosed quotes), then brackets.
    const plain = (code: string) => {
      const stack: string[] = [];
      const pair: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
      for (const ch of code.replace(/(["'])(?:\\.|(?!\1)[^\\\n])*\1/g, '')) {
        if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
        else if (ch in pair && stack.pop() !== pair[ch]) return true;
      }
      return stack.length > 0;
    };
    const rng = createRng(7);
    const alphabet = ['"', "'", '\\', '\n', '\r', '\u2028', '(', ')', '[', ']', '{', '}', 'a', ' '];
    for (let t = 0; t < 20_000; t++) {
      const code = Array.from({ length: 1 + rng.int(24) }, () => alphabet[rng.int(alphabet.length)]).join('');
      expect([code, unbalancedBrackets(code)]).toEqual([code, plain(code)]);
    }
  });

  it('reads written numbers exactly as the plain pattern does', () => {
    // The plain definition (its runs of blanks compete with each other: time growing with a power of their length).
    const plain = (text: string) => {
      const m = /^\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)\s*%?\s*\.?\s*$/.exec(text);
      const n = m ? Number(m[1].replace(/,/g, '')) : undefined;
      return n !== undefined && Number.isFinite(n) ? n : undefined;
    };
    const rng = createRng(11);
    const alphabet = [' ', '\t', '1', '2', ',', '.', '%', '$', '-', 'x'];
    for (let t = 0; t < 20_000; t++) {
      const text = Array.from({ length: 1 + rng.int(12) }, () => alphabet[rng.int(alphabet.length)]).join('');
      expect([text, parseNumber(text)]).toEqual([text, plain(text)]);
    }
    expect([parseNumber(' $1,234.50 '), parseNumber('12 % .'), parseNumber('-.5'), parseNumber('1 2')]).toEqual([1234.5, 12, -0.5, undefined]);
  });

  it('runs in time linear in the answer, whatever its runs of blanks, quotes or brackets', () => {
    // Each of these took seconds at 40,000 characters with the earlier patterns (time growing with the square of the
    // length), and blocked the api for as long: a caller controls the answer (up to 1,000,000 characters).
    const n = 200_000;
    const answers = {
      newlines: '\n'.repeat(n),
      returns: '\r'.repeat(n),
      separators: '\u2028'.repeat(n),
      blankLines: '\n '.repeat(n / 2),
      unclosedQuotes: '"\\'.repeat(n / 2),
      unclosedApostrophes: "'\\".repeat(n / 2),
      signatures: 'a a('.repeat(n / 4),
      finalLine: `####${' '.repeat(n)}x`,
      finalNumber: `#### 1${' '.repeat(n)}x`,
      bareMarker: `####${'\n '.repeat(n / 2)}1${' '.repeat(n)}x`,
      fence: '```' + '\n'.repeat(n),
      jsonFence: '```json' + ' '.repeat(n),
      defs: '\ndef'.repeat(n / 4),
      // Calculator annotations whose stated value is blanks around a number: each one read by parseNumber.
      annotations: `<<1=${' '.repeat(14)}1${' '.repeat(43)}x>>`.repeat(n / 66),
      annotationsThenFinal: `<<1=${' '.repeat(14)}1${' '.repeat(43)}x>>`.repeat(n / 66) + '\n#### 1',
    };
    for (const [name, answer] of Object.entries(answers)) {
      for (const prompt of ['q', 'answer in JSON']) {
        const t0 = performance.now();
        answerSignals({ prompt, answer });
        expect([name, performance.now() - t0 < 1000]).toEqual([name, true]);
      }
    }
  });
});
