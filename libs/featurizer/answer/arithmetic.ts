const { abs, max } = Math;

/**
 * Evaluates a calculator expression as models write them inside `<<expr=value>>` annotations: numbers (with
 * thousands commas, decimals, a trailing %), + − * × / ÷ ^ **, unary minus and parentheses. Returns undefined for
 * anything else (names, units, unbalanced brackets) or a non-finite result; never calls eval.
 */
export function evaluateArithmetic(expr: string): number | undefined {
  const tokens = tokenize(expr);
  if (!tokens) return undefined;
  let i = 0;
  const peek = () => tokens[i];
  const sum = (): number | undefined => {
    let v = product();
    while (v !== undefined && (peek() === '+' || peek() === '-')) {
      const op = tokens[i++];
      const r = product();
      v = r === undefined ? undefined : op === '+' ? v + r : v - r;
    }
    return v;
  };
  const product = (): number | undefined => {
    let v = power();
    while (v !== undefined && (peek() === '*' || peek() === '/')) {
      const op = tokens[i++];
      const r = power();
      v = r === undefined ? undefined : op === '*' ? v * r : v / r;
    }
    return v;
  };
  const power = (): number | undefined => {
    const b = unary();
    if (b === undefined || peek() !== '^') return b;
    i++;
    const e = power();
    return e === undefined ? undefined : b ** e;
  };
  const unary = (): number | undefined => {
    if (peek() === '-') {
      i++;
      const v = unary();
      return v === undefined ? undefined : -v;
    }
    if (peek() === '+') {
      i++;
      return unary();
    }
    return atom();
  };
  const atom = (): number | undefined => {
    const t = tokens[i++];
    if (typeof t === 'number') return t;
    if (t !== '(') return undefined;
    const v = sum();
    return tokens[i++] === ')' ? v : undefined;
  };
  const v = sum();
  return i === tokens.length && v !== undefined && Number.isFinite(v) ? v : undefined;
}

type Token = number | '+' | '-' | '*' | '/' | '^' | '(' | ')';

/** Only blanks from `lastIndex` to the end (sticky: no copy of the rest). */
const BLANK_TO_END = /\s*$/y;

function tokenize(expr: string): Token[] | undefined {
  const s = expr
    .replace(/\*\*/g, '^')
    .replace(/[×x](?=\s*[\d(.])/g, '*')
    .replace(/÷/g, '/')
    .replace(/\$/g, '');
  const out: Token[] = [];
  const re = /\s*(?:(\d[\d,]*(?:\.\d+)?|\.\d+)(%?)|([-+*/^()]))/y;
  let pos = 0;
  while (pos < s.length) {
    BLANK_TO_END.lastIndex = pos;
    if (BLANK_TO_END.test(s)) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      const n = Number(m[1].replace(/,/g, ''));
      if (!Number.isFinite(n)) return undefined;
      out.push(m[2] ? n / 100 : n);
    } else out.push(m[3] as Token);
  }
  return out.length > 0 ? out : undefined;
}

/** Longest text parseNumber reads: no written number is longer. */
const NUMBER_TEXT_MAX = 100;
/**
 * A written number, trimmed: every run of blanks is followed by the one thing it may precede (the number, `%`, `.`),
 * so no two runs compete for the same blanks and a text that is not a number fails in time linear in its length.
 */
const NUMBER = /^\$?\s*(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)(?:\s*%)?(?:\s*\.)?$/;

/** Parses a written number ("1,234.50", "$18", "-3", "12%", "12 %.") or undefined. */
export function parseNumber(raw: string): number | undefined {
  const text = raw.trim();
  if (text.length > NUMBER_TEXT_MAX) return undefined;
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const n = Number(m[1].replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Equal up to rounding as people write results (relative 1e-4, absolute 1e-6, or the stated value's last digit). */
export function sameNumber(a: number, b: number): boolean {
  return abs(a - b) <= max(1e-6, 1e-4 * max(abs(a), abs(b)));
}
