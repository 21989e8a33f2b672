import { CH, charClass } from './char-class.js';

/** Letters of a text by script. */
export interface ScriptTally {
  letters: number;
  /** Han, kana and Hangul. */
  cjk: number;
  cyrillic: number;
  arabic: number;
  /** Letters of every other script but Latin (Greek, Hebrew, Devanagari, Thai…). */
  otherScript: number;
}

/** Counts the letters of `text` by script (char-class.ts), in one pass. */
export function tallyScripts(text: string, t: ScriptTally): void {
  let latin = 0;
  let cjk = 0;
  let cyrillic = 0;
  let arabic = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    switch (charClass(text.charCodeAt(i))) {
      case CH.LATIN:
        latin++;
        break;
      case CH.IDEOGRAPH:
      case CH.HANGUL:
        cjk++;
        break;
      case CH.CYRILLIC:
        cyrillic++;
        break;
      case CH.ARABIC:
        arabic++;
        break;
      case CH.OTHER_LETTER:
        other++;
        break;
      default:
    }
  }
  t.letters = latin + cjk + cyrillic + arabic + other;
  t.cjk = cjk;
  t.cyrillic = cyrillic;
  t.arabic = arabic;
  t.otherScript = other;
}
