/**
 * Bounded views of long text. The featurizer reads at most a fixed number of characters of a request, whatever its
 * size, so its cost per request is bounded (a 1 MB body costs what a 32 KB one does).
 */

/**
 * Characters of the start of a text that the featurizer reads. With {@link FEATURIZE_TAIL_CHARS}: 32 KB in all,
 * so every ordinary prompt (several pages of text) is read whole and featurizes exactly as before; only longer
 * ones are cut. The start holds the system prompt and the instructions.
 */
export const FEATURIZE_HEAD_CHARS = 16_384;
/** Characters of the end of a text that the featurizer reads: where the latest question of a chat is. */
export const FEATURIZE_TAIL_CHARS = 16_384;

/**
 * The text of `pieces` joined with '\n', or, when that would be longer than `head + 1 + tail` characters, its
 * first `head` characters, a '\n', and its last `tail` characters, without ever building the whole join.
 *
 * - A surrogate pair is never cut: a high surrogate ending the head or a low surrogate starting the tail is
 *   dropped, so the view of a long text has between `head + tail - 1` and `head + 1 + tail` characters.
 * - `view(pieces, h, t) === view([pieces.join('\n')], h, t)`, and a view is its own view (idempotent).
 * - Views nest: for `h + 2 <= H` and `t + 2 <= T`, the (h, t) view of the (H, T) view is the (h, t) view of the
 *   text (so a caller may cut a text coarsely first without changing what the featurizer sees).
 * - Cost: O(pieces.length + head + tail); the middle of the text is never read.
 */
export function joinedView(pieces: readonly string[], head: number, tail: number): string {
  let total = pieces.length > 0 ? pieces.length - 1 : 0;
  for (const p of pieces) total += p.length;
  if (total <= head + 1 + tail) return pieces.length === 1 ? pieces[0] : pieces.join('\n');
  return `${withoutTrailingHigh(prefix(pieces, head))}\n${withoutLeadingLow(suffix(pieces, tail))}`;
}

/** {@link joinedView} of a single text. Returns `text` itself when it is short enough. */
export function textView(text: string, head: number, tail: number): string {
  return joinedView([text], head, tail);
}

/** The first `k` characters of `pieces.join('\n')` (all of it when shorter). */
function prefix(pieces: readonly string[], k: number): string {
  let s = '';
  for (let i = 0; i < pieces.length && s.length < k; i++) {
    if (i > 0) s += '\n';
    s += pieces[i].slice(0, k - s.length);
  }
  return s;
}

/** The last `k` characters of `pieces.join('\n')` (all of it when shorter). */
function suffix(pieces: readonly string[], k: number): string {
  let s = '';
  for (let i = pieces.length - 1; i >= 0 && s.length < k; i--) {
    if (i < pieces.length - 1) s = `\n${s}`;
    const p = pieces[i];
    s = p.slice(Math.max(0, p.length - (k - s.length))) + s;
  }
  return s;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const withoutTrailingHigh = (s: string) => (s.length > 0 && isHigh(s.charCodeAt(s.length - 1)) ? s.slice(0, -1) : s);
const withoutLeadingLow = (s: string) => (s.length > 0 && isLow(s.charCodeAt(0)) ? s.slice(1) : s);
