import { featurize, FIXED_FEATURES, SLOTS, type SlotName } from '@app/featurizer';
import { evidence, slot } from './slots.js';

/**
 * Each fixed slot fires on the kind of text it names and not on others: for one short example of each kind, the
 * exact set of slots (besides bias and length) that are non-zero. Incidental firings are listed where the rule
 * says they should happen (numbers in a doctest, "sum" in a docstring is calculation vocabulary, "morning" is
 * everyday vocabulary).
 */
const EXAMPLES: Record<string, [text: string, fires: SlotName[]]> = {
  prose: ['The committee met on Tuesday and discussed the new schedule for the spring.', []],
  chinese: ['请简要介绍一下长城的历史。', ['cjk', 'humanities']],
  russian: ['Расскажите, пожалуйста, о погоде в Москве.', ['cyrillic']],
  arabic: ['ما هي عاصمة فرنسا؟', ['arabic']],
  greek: ['Ποια είναι η πρωτεύουσα της Ελλάδας;', ['other-script']],
  python: ['def add(a, b):\n    """Return the sum."""\n    return a + b\n', ['python', 'notation', 'quantity']],
  javascript: ['const add = (a, b) => {\n  return a + b;\n};\n', ['brace', 'notation']],
  tests: ['assert add(1, 2) == 3\n>>> add(2, 2)\n4', ['tests', 'numbers']],
  'code request': ['Write a Python function to reverse a string.', ['code-task']],
  arithmetic: ['Tom buys 3 apples at $2 each and 4 pears at $1 each. How many dollars does he spend in total?', ['numbers', 'quantity', 'everyday']],
  algebra: ['Solve for $x$: $3x + 5 = 20$.', ['numbers', 'notation', 'quantity']],
  tex: ['Compute $\\frac{1}{2} + \\frac{1}{3}$.', ['numbers', 'notation', 'quantity']],
  choice: ['Which gas do plants absorb?\nA. oxygen\nB. carbon dioxide\nC. nitrogen\nD. helium', ['choices', 'stem', 'medicine']],
  'exam labels': ['Question: What is the boiling point of water?\nAnswer:', ['exam-labels']],
  'chinese exam': ['水的沸点是（）\nA. 90度\nB. 100度\nC. 110度\nD. 120度\n答案：', ['cjk', 'numbers', 'choices', 'exam-labels', 'blank']],
  blank: ['The trophy does not fit in the suitcase because the _ is too big.', ['blank']],
  stem: ['The voltage across the circuit rises as the electrons gain energy.', ['stem']],
  humanities: ['The court ruled that the contract was void under the statute of frauds.', ['humanities']],
  medicine: ['The patient presented with symptoms of a viral infection and was given a vaccine.', ['medicine']],
  social: ['Inflation and unemployment both rose after the central bank changed its monetary policy.', ['social']],
  everyday: ['My mother cooked dinner for the family while the kids played with the dog in the garden.', ['everyday']],
  translation: ['Translate "good morning" into French.', ['translation', 'everyday']],
  reasoning: ['Why is the sky blue? Explain step by step.', ['reasoning']],
  creative: ['Write a short poem about the sea.', ['creative']],
  summary: ['Summarize the following article in three bullet points.', ['summary']],
};

/** The fixed slots of a text, unnormalised (the bias is 1 before normalisation). */
const slots = (text: string): Record<SlotName, number> => {
  const x = featurize(text, 64);
  return Object.fromEntries(SLOTS.map((s, i) => [s, x[i] / x[0]])) as Record<SlotName, number>;
};
const firing = (text: string) =>
  Object.entries(slots(text))
    .filter(([s, v]) => s !== 'bias' && s !== 'length' && v > 0)
    .map(([s]) => s);

describe('fixed slots', () => {
  it('are named once, in order, and every kind slot is exercised by some example', () => {
    expect(SLOTS.length).toBe(FIXED_FEATURES);
    expect(new Set(SLOTS).size).toBe(SLOTS.length);
    expect(slot('bias')).toBe(0);
    const exercised = new Set(Object.values(EXAMPLES).flatMap(([, f]) => f));
    expect(SLOTS.filter((s) => s !== 'bias' && s !== 'length' && !exercised.has(s))).toEqual([]);
  });

  for (const [name, [text, fires]] of Object.entries(EXAMPLES))
    it(`${name}: fires ${fires.join(', ') || 'nothing'}`, () => {
      expect(firing(text).sort()).toEqual([...fires].sort());
    });

  it('stay in [0, 1] and read clear cases as clear', () => {
    for (const [text] of Object.values(EXAMPLES)) for (const v of Object.values(slots(text))) expect(v >= 0 && v <= 1).toBe(true);
    expect(slots('写一首关于秋天的诗').cjk).toBe(1);
    expect(slots('Which is right?\nA. red\nB. blue\nC. green').choices).toBe(0.75);
    expect(slots('a) only one option').choices).toBe(0); // one option line is not a question with options
    expect(slots('Question: why?\nAnswer:')['exam-labels']).toBe(1);
    expect(slots('x'.repeat(4000)).length).toBeCloseTo(Math.log1p(4000) / 10, 12);
  });

  it('squash counted evidence: one occurrence is a half', () => {
    expect([0, 1, 3].map(evidence)).toEqual([0, 0.5, 0.75]);
  });

  it('take subject shares of the subject vocabulary, one pseudo-count for "none"', () => {
    const s = slots('The court heard the patient.'); // one law word, one medicine word
    expect(s.humanities).toBeCloseTo(1 / 3, 12);
    expect(s.medicine).toBeCloseTo(1 / 3, 12);
  });
});
