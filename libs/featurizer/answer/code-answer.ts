export interface CodeShape {
  /** A fenced code block (```) is present. */
  fenced: boolean;
  /** A function definition (Python `def`, JS `function`/arrow, C-like signature) is present. */
  definesFunction: boolean;
  /** Brackets ( [ { are unbalanced in the code (the fenced part, else the whole answer): a cut or broken answer. */
  unbalanced: boolean;
}

/** Cheap format checks of a code answer. */
export function codeShape(answer: string): CodeShape {
  const blocks = [...answer.matchAll(/```[\w+-]*\n?([\s\S]*?)(?:```|$)/g)].map((m) => m[1]);
  const code = blocks.length > 0 ? blocks.join('\n') : answer;
  const stack: string[] = [];
  const pair: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let unbalanced = false;
  for (const ch of code.replace(/(["'])(?:\\.|(?!\1)[^\\\n])*\1/g, '')) {
    if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in pair && stack.pop() !== pair[ch]) {
      unbalanced = true;
      break;
    }
  }
  return {
    fenced: blocks.length > 0,
    definesFunction: /(^|\n)\s*(?:async\s+)?def\s+\w+\s*\(|\bfunction\s+\w+\s*\(|=>\s*[{(]?|\b\w+\s+\w+\s*\([^)]*\)\s*\{/.test(code),
    unbalanced: unbalanced || stack.length > 0,
  };
}
