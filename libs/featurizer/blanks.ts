import { CH, charClass, isWordClass } from './char-class.js';

/**
 * Fill-in-the-blank markers, counted in one pass: a run of underscores standing as a word of its own ("the _ is
 * soft", "____"), and an empty pair of brackets not right after a word (`（）`, `( )`; a call `f()` is not one).
 */
export function countBlanks(text: string): number {
  const n = text.length;
  let count = 0;
  let open = false; // inside an opening bracket and spaces, itself not right after a word
  let runStart = -1; // start of the current run of underscores
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const cls = charClass(c);
    if (cls === CH.UNDERSCORE) {
      if (runStart < 0) runStart = i;
      open = false;
      continue;
    }
    if (runStart >= 0) {
      if ((runStart === 0 || !isWordClass(charClass(text.charCodeAt(runStart - 1)))) && !isWordClass(cls)) count++;
      runStart = -1;
    }
    if (c === 0x28 || c === 0xff08) open = i === 0 || !isWordClass(charClass(text.charCodeAt(i - 1)));
    else if (c === 0x29 || c === 0xff09) {
      if (open) count++;
      open = false;
    } else if (cls !== CH.SPACE) open = false;
  }
  if (runStart >= 0 && (runStart === 0 || !isWordClass(charClass(text.charCodeAt(runStart - 1))))) count++;
  return count;
}
