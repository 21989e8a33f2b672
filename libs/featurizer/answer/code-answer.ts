export interface CodeShape {
  /** A fenced code block (```) is present. */
  fenced: boolean;
  /** A function definition (Python `def`, JS `function`/arrow, C-like signature) is present. */
  definesFunction: boolean;
  /** Brackets ( [ { are unbalanced in the code (the fenced part, else the whole answer): a cut or broken answer. */
  unbalanced: boolean;
}

/**
 * Cheap format checks of a code answer. Every pattern runs in time linear in the answer (an answer is any text a
 * caller or model sends): leading blanks are matched within a line, a signature's blanks and parameters are bounded.
 */
export function codeShape(answer: string): CodeShape {
  const blocks = [...answer.matchAll(/```[\w+-]*\n?([\s\S]*?)(?:```|$)/g)].map((m) => m[1]);
  const code = blocks.length > 0 ? blocks.join('\n') : answer;
  return {
    fenced: blocks.length > 0,
    definesFunction:
      /(?:^|\n)[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(|\bfunction[ \t]+\w+[ \t]*\(|=>|\b\w+\s{1,20}\w+\s{0,20}\([^()]{0,200}\)\s{0,20}\{/.test(code),
    unbalanced: unbalancedBrackets(code),
  };
}

const OPENING: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * Whether the brackets ( [ { of `code` are unbalanced outside string literals. A literal is a quote, then
 * characters other than a line feed (a backslash escapes the next one, not a line end), then the same quote; a
 * quote that closes no literal is left as it is, as `(["'])(?:\\.|(?!\1)[^\\\n])*\1` would strip them. Linear: a
 * literal that fails to close at `f` means every later quote of its kind before `f` fails there too (the scan from
 * each lands in step with the first one's), so each stretch of a line is scanned once per kind of quote.
 */
export function unbalancedBrackets(code: string): boolean {
  const stack: string[] = [];
  const failsBefore: Record<string, number> = { '"': -1, "'": -1 };
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (ch === '"' || ch === "'") {
      if (i < failsBefore[ch]) continue;
      const end = literalEnd(code, i);
      if (end.closed) i = end.at;
      else failsBefore[ch] = end.at;
    } else if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in OPENING && stack.pop() !== OPENING[ch]) return true;
  }
  return stack.length > 0;
}

const LINE_END = new Set(['\n', '\r', '\u2028', '\u2029']);

/** From the quote at `open`: where its literal closes, or where it fails to (a line feed, an escaped line end, the end). */
function literalEnd(code: string, open: number): { closed: boolean; at: number } {
  const quote = code[open];
  for (let k = open + 1; k < code.length; k++) {
    const c = code[k];
    if (c === quote) return { closed: true, at: k };
    if (c === '\n') return { closed: false, at: k };
    if (c === '\\') {
      if (k + 1 >= code.length || LINE_END.has(code[k + 1])) return { closed: false, at: k };
      k++;
    }
  }
  return { closed: false, at: code.length };
}
