import { answerSignals, ANSWER_SIGNALS } from './answer-signals.js';
import { evaluateArithmetic } from './arithmetic.js';
import { checkAnnotations } from './calculator-annotations.js';
import { codeShape } from './code-answer.js';
import { finalAnswerLine } from './final-answer-line.js';
import { containsValidJson } from './json-answer.js';
import { hedgeCount, isRefusal } from './refusal.js';
import { repeatedLineShare } from './repetition.js';
import { logprobSignals } from './token-logprobs.js';

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
    expect(checkAnnotations(good)).toEqual({ count: 2, wrong: 0, last: 26 });
    expect(checkAnnotations(slip)).toEqual({ count: 2, wrong: 1, last: 24 });
    expect(finalAnswerLine(good)).toEqual({ present: true, numeric: true, consistent: true });
    expect(finalAnswerLine(drift).consistent).toBe(false);
    expect(finalAnswerLine('So the answer is 7.\n#### 7').consistent).toBe(true);
    expect(finalAnswerLine('#### seven')).toEqual({ present: true, numeric: false, consistent: false });
    expect(finalAnswerLine('The answer is 7.').present).toBe(false);
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
});
