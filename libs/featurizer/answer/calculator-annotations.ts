import { evaluateArithmetic, parseNumber, sameNumber } from './arithmetic.js';

export interface AnnotationCheck {
  /** `<<expr=value>>` annotations found. */
  count: number;
  /** Annotations whose expression does not evaluate to the stated value (or cannot be evaluated). */
  wrong: number;
  /** The stated value of the last annotation, if it parses. */
  last: number | undefined;
}

const ANNOTATION = /<<([^<>=]{1,200})=([^<>]{1,60})>>/g;

/**
 * Recomputes the calculator annotations `<<expr=value>>` some models (GSM8K-trained ones) put in their working: an
 * annotation whose expression does not give its stated value is a slip the answer probably inherited.
 */
export function checkAnnotations(answer: string): AnnotationCheck {
  let count = 0;
  let wrong = 0;
  let last: number | undefined;
  for (const m of answer.matchAll(ANNOTATION)) {
    count++;
    const stated = parseNumber(m[2]);
    const computed = evaluateArithmetic(m[1]);
    if (stated === undefined || computed === undefined || !sameNumber(stated, computed)) wrong++;
    last = stated;
  }
  return { count, wrong, last };
}
