import { evaluateArithmetic, parseNumber, sameNumber } from './arithmetic.js';

export interface AnnotationCheck {
  /** `<<expr=value>>` annotations found. */
  count: number;
  /** Of the first MAX_EVALUATED_ANNOTATIONS, those whose expression does not give the stated value (or cannot be evaluated). */
  wrong: number;
  /** The stated value of the last annotation, if it parses. */
  last: number | undefined;
  /** Where each annotation ends (offset after its `>>`), in order, and its stated value (if it parses). */
  ends: number[];
  stated: (number | undefined)[];
}

const ANNOTATION = /<<([^<>=]{1,200})=([^<>]{1,60})>>/g;

/**
 * Annotations recomputed per answer at most (a working has a few dozen): the rest are counted and their stated
 * values kept, but not evaluated, so that an answer made of annotations costs no more than any text of its length.
 */
export const MAX_EVALUATED_ANNOTATIONS = 256;

/**
 * Recomputes the calculator annotations `<<expr=value>>` some models (GSM8K-trained ones) put in their working: an
 * annotation whose expression does not give its stated value is a slip the answer probably inherited.
 */
export function checkAnnotations(answer: string): AnnotationCheck {
  let wrong = 0;
  const ends: number[] = [];
  const values: (number | undefined)[] = [];
  for (const m of answer.matchAll(ANNOTATION)) {
    const stated = parseNumber(m[2]);
    if (ends.length < MAX_EVALUATED_ANNOTATIONS) {
      const computed = evaluateArithmetic(m[1]);
      if (stated === undefined || computed === undefined || !sameNumber(stated, computed)) wrong++;
    }
    ends.push(m.index + m[0].length);
    values.push(stated);
  }
  return { count: ends.length, wrong, last: values[values.length - 1], ends, stated: values };
}

/**
 * The stated value of the last annotation that ends at or before `offset` (undefined when there is none, or when
 * its value does not parse): what checkAnnotations of the text before `offset` would answer as `last`, without
 * matching that text again. (An annotation holds no `<`, so one that runs past `offset` hides no other that ends
 * before it.)
 */
export function lastAnnotationBefore(check: AnnotationCheck, offset: number): number | undefined {
  let lo = 0;
  let hi = check.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (check.ends[mid] <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : check.stated[lo - 1];
}
