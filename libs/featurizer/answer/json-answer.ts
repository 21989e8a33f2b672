/** The request asks for JSON output (a "JSON" mention in the prompt, or an API-level JSON response format). */
export const asksForJson = (prompt: string): boolean => /\bjson\b/i.test(prompt);

/**
 * Whether the answer is, or contains in a fenced block, a valid JSON object or array (JSON.parse; no I/O).
 */
export function containsValidJson(answer: string): boolean {
  const fenced = /```(?:json)?([\s\S]*?)```/i.exec(answer);
  const candidates = [answer.trim(), fenced?.[1]?.trim() ?? ''];
  const start = answer.search(/[[{]/);
  const end = Math.max(answer.lastIndexOf('}'), answer.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(answer.slice(start, end + 1));
  for (const c of candidates) {
    if (!c || !/^[[{]/.test(c)) continue;
    try {
      JSON.parse(c);
      return true;
    } catch {
      // not this candidate
    }
  }
  return false;
}
