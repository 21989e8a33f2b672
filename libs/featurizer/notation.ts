import { CH, charClass, type CharClass } from './char-class.js';

/**
 * Mathematical notation in a text, counted in one pass:
 *
 * - an ASCII operator `+ - * / = ^ < >` between two operands (the nearest non-space characters on its sides:
 *   a digit or letter, a closing bracket on the left, an opening bracket, `\` or `$` on the right). `-` and `/`
 *   count only next to a digit, since between words they are hyphens and "and/or". Doubled operators (`==`, `=>`,
 *   `**`) do not count: the neighbour of each is an operator;
 * - every character of the mathematical operator, arrow and fraction blocks (`×`, `÷`, `≤`, `∑`, `→`…);
 * - a TeX command (`\` followed by a letter: `\frac`, `\pi`);
 * - a closing TeX `$`: right after an operand and not before a digit (`$x+1$`; money, `$20`, is not).
 *
 * A line break resets the left operand (a list bullet is not a minus).
 */
export function countNotation(text: string): number {
  const n = text.length;
  let count = 0;
  let left = 0; // the last non-space character of the line, 0 at its start
  let pending = 0; // an ASCII operator waiting for its right operand
  let pendingDigit = false; // …with a digit on its left
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const cls = charClass(c);
    if (cls === CH.SPACE) continue;
    if (cls === CH.NEWLINE) {
      left = 0;
      pending = 0;
      continue;
    }
    if (pending !== 0) {
      const digitRule = pending === 0x2d || pending === 0x2f; // - /
      if (isRightOperand(c, cls) && (!digitRule || pendingDigit || cls === CH.DIGIT)) count++;
      pending = 0;
    }
    if (cls === CH.OPERATOR) {
      if (c > 0x7f) count++;
      else if (left !== 0 && isLeftOperand(left, charClass(left))) {
        pending = c;
        pendingDigit = charClass(left) === CH.DIGIT;
      }
    } else if (c === 0x5c) {
      if (i + 1 < n && charClass(text.charCodeAt(i + 1)) === CH.LATIN) count++; // \ + letter
    } else if (c === 0x24 && i > 0) {
      const before = text.charCodeAt(i - 1);
      if (isLeftOperand(before, charClass(before)) && !(i + 1 < n && charClass(text.charCodeAt(i + 1)) === CH.DIGIT)) count++; // $
    }
    left = c;
  }
  return count;
}

const isOperandClass = (cls: CharClass) => cls === CH.DIGIT || (cls >= CH.LATIN && cls <= CH.IDEOGRAPH);
/** A digit, a letter, or a closing bracket. */
const isLeftOperand = (c: number, cls: CharClass) => isOperandClass(cls) || c === 0x29 || c === 0x5d || c === 0x7d;
/** A digit, a letter, an opening bracket, a TeX command or a TeX `$`. */
const isRightOperand = (c: number, cls: CharClass) => isOperandClass(cls) || c === 0x28 || c === 0x5b || c === 0x7b || c === 0x5c || c === 0x24;
