/**
 * Share of non-blank lines (trimmed, at least 8 characters) that repeat an earlier line: degenerate loops of a
 * weak model show up as a high share.
 */
export function repeatedLineShare(answer: string): number {
  const lines = answer
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 8);
  if (lines.length === 0) return 0;
  const seen = new Set<string>();
  let repeats = 0;
  for (const l of lines) {
    if (seen.has(l)) repeats++;
    else seen.add(l);
  }
  return repeats / lines.length;
}
