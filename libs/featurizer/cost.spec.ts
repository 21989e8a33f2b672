import { countBlanks } from './blanks.js';
import { hashNgrams } from './hashed.js';
import { tallyLayout } from './layout.js';
import { countNotation } from './notation.js';
import { tallyScripts } from './scripts.js';
import { TextTally } from './tally.js';
import { bestTimeMs, HOSTILE_TEXTS, hostileTexts, MAX_INPUT_CHARS } from './testing/hostile-text.js';
import { tallyWords } from './words.js';

/**
 * Every scan of the featurizer is linear, whatever the text: the same hostile shape four times as long takes about
 * four times as long (a quadratic scan: sixteen times). The scans are run on whole 1 MB texts here, 30 times what
 * `featurize` ever reads (its view is 32 KB), so a rescan would show plainly.
 */
const tally = new TextTally();
const hashed = new Float64Array(64);
const SCANS: Record<string, (text: string) => unknown> = {
  scripts: (t) => tallyScripts(t, tally),
  'words and vocabulary': (t) => tallyWords(t, tally),
  layout: (t) => tallyLayout(t, tally),
  notation: countNotation,
  blanks: countBlanks,
  'hashed n-grams': (t) => hashNgrams(t, hashed, 25, 64, 1),
};

describe('each scan is linear on hostile 1 MB texts', () => {
  const quarters = hostileTexts(MAX_INPUT_CHARS / 4);
  for (const [name, scan] of Object.entries(SCANS))
    it(name, () => {
      const slow: string[] = [];
      for (const [shape, text] of Object.entries(HOSTILE_TEXTS)) {
        expect(text.length).toBe(MAX_INPUT_CHARS);
        const measure = (): string | null => {
          const ms = bestTimeMs(scan, text);
          const quarter = bestTimeMs(scan, quarters[shape]);
          // Compared within the same shape; the absolute bound is generous for slow machines.
          return ms > 400 || ms > 8 * Math.max(quarter, 5) ? `${shape}: ${ms.toFixed(1)} ms (a quarter of it: ${quarter.toFixed(1)} ms)` : null;
        };
        // A shared machine's timings jump now and then (a 12 ms scan once took 44 ms in CI): a shape is slow only if
        // it is slow in three measurements in a row, as a quadratic scan always is.
        let verdict = measure();
        for (let again = 0; verdict !== null && again < 2; again++) verdict = measure();
        if (verdict !== null) slow.push(verdict);
      }
      expect(slow).toEqual([]);
    });
});
