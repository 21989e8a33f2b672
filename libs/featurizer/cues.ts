/**
 * Cheap task cues: regular expressions over the lower-cased text, each giving one feature in {0, 1}. They name
 * the kinds of prompt whose best model tends to differ (code, maths, translation, multiple choice, reasoning,
 * creative writing, extraction/summary).
 *
 * Each expression runs in time linear in the text: it sees request text, and the api has one thread. JavaScript
 * regular expressions backtrack, so no two start positions may rescan the same stretch of text: every whitespace
 * run below is entered only from the one non-space anchor before it ('{', ';', '}', a digit or operator, '?') or,
 * for multiple choice, from the last '\n' before it (`[^\S\n]*` stops at the next line break). That cue used to
 * read `(^|\n)\s*`, which rescanned a run of blank lines from each of its line breaks (quadratic: 100 KB of
 * newlines took seconds); the new form matches exactly the same texts. cues.spec.ts holds both to that.
 */
export const CUES: readonly { name: string; re: RegExp }[] = [
  { name: 'code', re: /```|\b(def|function|class|return|import|const|let|var|public|void|select|from)\b|[{};]\s*$|=>|#include/m },
  { name: 'math', re: /\b(solve|calculate|compute|equation|integral|derivative|probability|sum of|how many|prove)\b|\d\s*[-+*/^=]\s*\d/ },
  { name: 'translation', re: /\b(translate|translation|in (french|german|spanish|chinese|japanese|english|italian|russian))\b/ },
  { name: 'multiple-choice', re: /(?:^|\n)[^\S\n]*\(?[a-d][).:]\s|\banswer with the letter\b|\boptions?:/ },
  { name: 'reasoning', re: /\b(why|explain|reason|step by step|justify|compare|analy[sz]e)\b/ },
  { name: 'creative', re: /\b(write|story|poem|essay|song|imagine|creative|lyrics)\b/ },
  { name: 'summary', re: /\b(summari[sz]e|tl;?dr|extract|list the|bullet points?)\b/ },
  { name: 'question', re: /\?\s*$/ },
];
