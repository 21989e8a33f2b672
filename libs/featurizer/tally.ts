import { countBlanks } from './blanks.js';
import { type LayoutTally, tallyLayout } from './layout.js';
import { countNotation } from './notation.js';
import { type ScriptTally, tallyScripts } from './scripts.js';
import { newSignalCounts, tallyWords, type WordTally } from './words.js';

/** Everything the fixed slots are computed from: counts over one (lower-cased, bounded) text. */
export class TextTally implements ScriptTally, WordTally, LayoutTally {
  chars = 0;
  letters = 0;
  cjk = 0;
  cyrillic = 0;
  arabic = 0;
  otherScript = 0;
  tokens = 0;
  numbers = 0;
  readonly signals = newSignalCounts();
  python = 0;
  brace = 0;
  tests = 0;
  options = 0;
  questionLabel = false;
  answerSlot = false;
  notation = 0;
  blanks = 0;
}

/**
 * Fills `t` with the counts of `text` (already lower-cased and cut to the featurizer's view). A fixed number of
 * linear passes (scripts, tokens and vocabulary, lines, notation, blanks); no regular expression, so hostile text
 * costs what plain text of the same length does.
 */
export function tallyText(text: string, t: TextTally): TextTally {
  t.chars = text.length;
  tallyScripts(text, t);
  tallyWords(text, t);
  tallyLayout(text, t);
  t.notation = countNotation(text);
  t.blanks = countBlanks(text);
  return t;
}
