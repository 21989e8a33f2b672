/** Request texts for the featurizer's cost tests: adversarial ones at the largest size a request carries. */

/** The longest `input` a route request takes (libs/contracts): 1,000,000 characters. */
export const MAX_INPUT_CHARS = 1_000_000;

const fill = (unit: string, n = MAX_INPUT_CHARS) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/**
 * `n`-character texts (1,000,000 by default) built to make a scan rescan: long whitespace runs (with and without
 * line breaks) after each character some rule anchors on ('\n', '{', ';', a digit, an operator, '?', '(', ':'),
 * dense anchors (operators, '$', '\\', underscores, docstring quotes, option lines, block headers), one long line,
 * one long word, ideographs.
 */
export function hostileTexts(n = MAX_INPUT_CHARS): Readonly<Record<string, string>> {
  const fill = (unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  const run = (head: string, unit: string, tail: string) => {
    const m = n - head.length - tail.length;
    return head + unit.repeat(Math.ceil(m / unit.length)).slice(0, m) + tail;
  };
  return {
    newlines: fill('\n'),
    'newline + space': fill('\n '),
    'newline + 4 spaces': fill('\n    '),
    crlf: fill('\r\n'),
    'newline + nbsp + line separator': fill('\n\u00a0\u2028'),
    'blank lines of spaces and tabs': fill(' \t \n'),
    '"{" then spaces': run('{', ' ', 'x'),
    '";" then spaces and newlines': run(';', ' \n', 'x'),
    'lines of "{" and spaces': fill(`{${' '.repeat(62)}x`),
    '"{" repeated': fill('{'),
    '";){" repeated': fill(';){'),
    '"1" then spaces': run('1', ' ', 'x'),
    '"1 =" then spaces': run('1 =', ' ', 'x'),
    '"1 " repeated': run('', '1 ', 'x'),
    '"?" then spaces': run('?', ' ', 'x'),
    '"? " repeated': run('', '? ', 'x'),
    'lines of "(a"': fill('(a\n'),
    '"\\n(" then spaces': fill(`\n(${' '.repeat(30)}`),
    'one long word': fill('a'),
    // Aimed at the layout, notation, blank and vocabulary scans (layout.ts, notation.ts, blanks.ts, vocabulary.ts).
    underscores: fill('_'),
    '"(" then spaces': run('(', ' ', ')'),
    '"( " repeated': fill('( '),
    'operators between digits': fill('1+'),
    '"-" repeated': fill('-'),
    '"$" repeated': fill('$'),
    '"\\a" repeated': fill('\\a'),
    'one line of "from" words': fill('from '),
    'one line of spaces ending with ":"': run('', ' ', ':'),
    'indented block headers': fill('\n    def f():'),
    'lines of docstring quotes': fill('"""\n'),
    'lines of options': fill('a) \n'),
    ideographs: fill('中文'),
    'one long stem-like word': fill('biolog'),
  };
}
export const HOSTILE_TEXTS = hostileTexts();

/**
 * 1,000,000 characters of plain prose with no code, options, notation or blanks, so every scan reads all of it
 * the ordinary way: the same-run yardstick the hostile timings are compared with (ratios hold across machines where
 * milliseconds do not).
 */
export const PLAIN_TEXT = fill('the quick brown fox jumps over the lazy dog near the old mill. ');

/**
 * Best of `runs` timings of `f(text)`, in ms. `f` first runs on the text's first 64 KB, and a probe slower than
 * `probeMs` throws at once: a super-linear matcher would otherwise hold the thread for many minutes on the whole
 * text (a million newlines cost the old multiple-choice cue about half an hour), so it fails in seconds instead.
 */
export function bestTimeMs(f: (text: string) => unknown, text: string, runs = 3, probeMs = 200): number {
  const probe = text.slice(0, 65_536);
  const t0 = performance.now();
  f(probe);
  const p = performance.now() - t0;
  if (p > probeMs) throw new Error(`${p.toFixed(0)} ms on the first 64 KB alone (limit ${probeMs} ms): not run on the whole text`);
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    f(text);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
