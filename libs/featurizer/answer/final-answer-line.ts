import { parseNumber, sameNumber } from './arithmetic.js';
import { checkAnnotations } from './calculator-annotations.js';

export interface FinalAnswerLine {
  /** A `#### …` line is present (GSM8K's answer convention). */
  present: boolean;
  /** Its content parses as a number. */
  numeric: boolean;
  /**
   * The number agrees with the working: the last calculator annotation's value, or, without annotations, the last
   * number written before the line. False when either side is missing.
   */
  consistent: boolean;
}

// Blanks of one line only, and the rest of the line taken whole (trimmed after): every pattern here runs in time
// linear in the answer, whatever its runs of blank lines or spaces (an answer is any text a caller or model sends).
const LINE = /^[ \t]*####(.*)$/m;
const NUMBERS = /-?\$?\d[\d,]*(?:\.\d+)?/g;

/** Checks the final `#### n` line against the working above it. */
export function finalAnswerLine(answer: string): FinalAnswerLine {
  const m = LINE.exec(answer);
  if (!m) return { present: false, numeric: false, consistent: false };
  const value = parseNumber(m[1]);
  if (value === undefined) return { present: true, numeric: false, consistent: false };
  const working = answer.slice(0, m.index);
  let reference = checkAnnotations(working).last;
  if (reference === undefined) {
    const nums = [...working.replace(/<<[^<>]*>>/g, ' ').matchAll(NUMBERS)];
    reference = nums.length > 0 ? parseNumber(nums[nums.length - 1][0]) : undefined;
  }
  return { present: true, numeric: true, consistent: reference !== undefined && sameNumber(value, reference) };
}
