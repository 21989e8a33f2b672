import { parseNumber, sameNumber } from './arithmetic.js';
import { type AnnotationCheck, checkAnnotations, lastAnnotationBefore } from './calculator-annotations.js';

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
const LINE = /^[^\S\n\r\u2028\u2029]*####(.*)$/m;
const NUMBERS = /-?\$?\d[\d,]*(?:\.\d+)?/g;
const LINE_END = /[\n\r\u2028\u2029]/g;

/**
 * What the `####` line states: the rest of its line, or, when that is blank, the next line that is not (GSM8K
 * answers sometimes put the number below the marker), as the pattern `^\s*####\s*(.*?)\s*$` reads it, in one scan
 * forward from the marker.
 */
function statedAnswer(answer: string, line: RegExpExecArray): string {
  if (line[1].trim() !== '') return line[1];
  let start = line.index + line[0].length;
  while (start < answer.length && /\s/.test(answer[start])) start++;
  LINE_END.lastIndex = start;
  const end = LINE_END.exec(answer);
  return answer.slice(start, end ? end.index : answer.length);
}

/**
 * Checks the final `#### n` line against the working above it. `annotations`: the answer's checkAnnotations, when the
 * caller has it already (a long answer's annotations are then matched and evaluated once).
 */
export function finalAnswerLine(answer: string, annotations: AnnotationCheck = checkAnnotations(answer)): FinalAnswerLine {
  const m = LINE.exec(answer);
  if (!m) return { present: false, numeric: false, consistent: false };
  const value = parseNumber(statedAnswer(answer, m));
  if (value === undefined) return { present: true, numeric: false, consistent: false };
  let reference = lastAnnotationBefore(annotations, m.index);
  if (reference === undefined) {
    const nums = [
      ...answer
        .slice(0, m.index)
        .replace(/<<[^<>]*>>/g, ' ')
        .matchAll(NUMBERS),
    ];
    reference = nums.length > 0 ? parseNumber(nums[nums.length - 1][0]) : undefined;
  }
  return { present: true, numeric: true, consistent: reference !== undefined && sameNumber(value, reference) };
}
