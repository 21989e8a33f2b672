/**
 * Cheap task cues: regular expressions over the lower-cased text, each giving one feature in {0, 1}. They name
 * the kinds of prompt whose best model tends to differ (code, maths, translation, multiple choice, reasoning,
 * creative writing, extraction/summary).
 */
export const CUES: readonly { name: string; re: RegExp }[] = [
  { name: 'code', re: /```|\b(def|function|class|return|import|const|let|var|public|void|select|from)\b|[{};]\s*$|=>|#include/m },
  { name: 'math', re: /\b(solve|calculate|compute|equation|integral|derivative|probability|sum of|how many|prove)\b|\d\s*[-+*/^=]\s*\d/ },
  { name: 'translation', re: /\b(translate|translation|in (french|german|spanish|chinese|japanese|english|italian|russian))\b/ },
  { name: 'multiple-choice', re: /(^|\n)\s*(\(?[a-d][).:])\s|\banswer with the letter\b|\boptions?:/ },
  { name: 'reasoning', re: /\b(why|explain|reason|step by step|justify|compare|analy[sz]e)\b/ },
  { name: 'creative', re: /\b(write|story|poem|essay|song|imagine|creative|lyrics)\b/ },
  { name: 'summary', re: /\b(summari[sz]e|tl;?dr|extract|list the|bullet points?)\b/ },
  { name: 'question', re: /\?\s*$/ },
];
