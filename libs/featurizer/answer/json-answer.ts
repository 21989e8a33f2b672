/** The request asks for JSON output (a "JSON" mention in the prompt, or an API-level JSON response format). */
export const asksForJson = (prompt: string): boolean => /\bjson\b/i.test(prompt);

/** Nesting deeper than this is not taken for an answer's JSON (no answer nests so deep; parsing it costs most). */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether the answer is, or contains in a fenced block, a valid JSON object or array (JSON.parse; no I/O). Each
 * distinct candidate is parsed once, and none nested deeper than MAX_JSON_DEPTH.
 */
export function containsValidJson(answer: string): boolean {
  const fenced = /```(?:json)?([\s\S]*?)```/i.exec(answer);
  const candidates = [answer.trim(), fenced?.[1]?.trim() ?? ''];
  const start = answer.search(/[[{]/);
  const end = Math.max(answer.lastIndexOf('}'), answer.lastIndexOf(']'));
  if (start >= 0 && end > start) candidates.push(answer.slice(start, end + 1));
  for (const c of new Set(candidates)) {
    if (!c || !/^[[{]/.test(c) || nestedDeeper(c, MAX_JSON_DEPTH)) continue;
    try {
      JSON.parse(c);
      return true;
    } catch {
      // not this candidate
    }
  }
  return false;
}

/** Whether brackets outside strings nest deeper than `max` anywhere in `text` (one pass, stopping there). */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
