import { SIGNALS, type Signal } from './lexicon.js';
import { type TextTally } from './tally.js';

const { log1p, max } = Math;

/**
 * The fixed (informative) slots of the context vector, in order. Each is a property of the prompt that the best
 * model plausibly depends on, in [0, 1] with 1 for "clearly so", so that all of them weigh alike against the bias:
 *
 * - `bias`: 1;
 * - `length`: log(1 + characters) / 10 (0.46 at 100 characters, 0.83 at 4,000);
 * - script shares, of the letters: `cjk` (Han, kana, Hangul), `cyrillic`, `arabic`, `other-script` (Latin is the rest);
 * - code: `python`, `brace` (C, Java, JavaScript…), `tests` (asserts, doctests): evidence from the lines' layout;
 *   `code-task`: a request for code in words ("write a python function…") and programming vocabulary;
 * - maths: `numbers` (number tokens per ten tokens), `notation` (operators between operands, TeX),
 *   `quantity` (calculation vocabulary: "how many", total, percent…);
 * - format: `choices` (distinct options a–d at line starts, /4; 0 below two), `exam-labels` ("Question:" opening,
 *   "Answer:" / "答案：" closing: ½ each), `blank` (a fill-in blank: `_`, `____`, `（）`);
 * - subject, as shares of the subject vocabulary (with one pseudo-count for "none"): `stem`, `humanities`
 *   (with law), `medicine` (with biology), `social` (economics, psychology, politics…), `everyday`;
 * - task: `translation`, `reasoning` (explain, why, compare), `creative` (story, poem), `summary`.
 *
 * Counted evidence (code lines, vocabulary, operators) is squashed by {@link evidence}: one occurrence gives ½.
 */
export const SLOTS = [
  'bias',
  'length',
  'cjk',
  'cyrillic',
  'arabic',
  'other-script',
  'python',
  'brace',
  'tests',
  'code-task',
  'numbers',
  'notation',
  'quantity',
  'choices',
  'exam-labels',
  'blank',
  'stem',
  'humanities',
  'medicine',
  'social',
  'everyday',
  'translation',
  'reasoning',
  'creative',
  'summary',
] as const;
export type SlotName = (typeof SLOTS)[number];

/** Index of a fixed slot. */
export const slot = (name: SlotName): number => SLOTS.indexOf(name);

/** Number of fixed slots. */
export const FIXED_FEATURES = SLOTS.length;

/** `count` occurrences of some evidence, squashed into [0, 1): 0 → 0, 1 → ½, 3 → ¾. */
export const evidence = (count: number): number => count / (count + 1);

const SUBJECTS = ['stem', 'humanities', 'medicine', 'social', 'everyday'] as const satisfies readonly (Signal & SlotName)[];
const TASKS = ['translation', 'reasoning', 'creative', 'summary'] as const satisfies readonly (Signal & SlotName)[];
const at = (s: Signal) => SIGNALS.indexOf(s);
const popcount4 = (bits: number) => (bits & 1) + ((bits >> 1) & 1) + ((bits >> 2) & 1) + ((bits >> 3) & 1);

/** Writes the {@link FIXED_FEATURES} fixed slots of `t` into `out[0…)`, unnormalised. */
export function writeFixedSlots(t: TextTally, out: Float64Array): void {
  const s = t.signals;
  const letters = max(t.letters, 1);
  out[BIAS] = 1;
  out[LENGTH] = log1p(t.chars) / 10;
  out[CJK] = t.cjk / letters;
  out[CYRILLIC] = t.cyrillic / letters;
  out[ARABIC] = t.arabic / letters;
  out[OTHER_SCRIPT] = t.otherScript / letters;
  out[PYTHON] = evidence(t.python);
  out[BRACE] = evidence(t.brace);
  out[TESTS] = evidence(t.tests);
  out[CODE_TASK] = evidence(s[at('code-task')]);
  out[NUMBERS] = t.tokens > 0 ? evidence((10 * t.numbers) / t.tokens) : 0;
  out[NOTATION] = evidence(t.notation);
  out[QUANTITY] = evidence(s[at('quantity')]);
  const options = popcount4(t.options);
  out[CHOICES] = options >= 2 ? options / 4 : 0;
  out[EXAM_LABELS] = ((t.questionLabel ? 1 : 0) + (t.answerSlot ? 1 : 0)) / 2;
  out[BLANK] = t.blanks > 0 ? 1 : 0;
  let subjectHits = 1;
  for (const d of SUBJECTS) subjectHits += s[at(d)];
  for (const d of SUBJECTS) out[slot(d)] = s[at(d)] / subjectHits;
  for (const task of TASKS) out[slot(task)] = evidence(s[at(task)]);
}

const BIAS = slot('bias');
const LENGTH = slot('length');
const CJK = slot('cjk');
const CYRILLIC = slot('cyrillic');
const ARABIC = slot('arabic');
const OTHER_SCRIPT = slot('other-script');
const PYTHON = slot('python');
const BRACE = slot('brace');
const TESTS = slot('tests');
const CODE_TASK = slot('code-task');
const NUMBERS = slot('numbers');
const NOTATION = slot('notation');
const QUANTITY = slot('quantity');
const CHOICES = slot('choices');
const EXAM_LABELS = slot('exam-labels');
const BLANK = slot('blank');
