/**
 * Refusal and hedging markers (English). A refusal ("I can't help with that") is rarely what the user wanted from a
 * cheaper model; hedging ("I'm not sure", "it depends") flags low confidence. Matched case-insensitively; the
 * learner decides what they are worth.
 */
const REFUSAL =
  /\b(?:i\s*(?:can(?:no|')t|cannot|am\s+(?:not\s+able|unable)|'m\s+(?:not\s+able|unable)|won't)\s+(?:help|assist|provide|answer|do|comply|fulfil)|as\s+an\s+ai(?:\s+language\s+model)?|i\s+(?:apologi[sz]e|am\s+sorry|'m\s+sorry),?\s+but)\b/i;
const HEDGES =
  /\b(?:i'?m\s+not\s+(?:sure|certain)|i\s+am\s+not\s+(?:sure|certain)|it\s+depends|might\s+be|may\s+be\s+(?:wrong|incorrect)|i\s+think|probably|possibly|unclear|approximately|roughly|i\s+don'?t\s+know|not\s+enough\s+information)\b/gi;

export const isRefusal = (answer: string): boolean => REFUSAL.test(answer.slice(0, 600));

/** Hedging markers per answer, capped at `cap`. */
export function hedgeCount(answer: string, cap = 5): number {
  let n = 0;
  for (const _ of answer.matchAll(HEDGES)) if (++n >= cap) break;
  return n;
}
