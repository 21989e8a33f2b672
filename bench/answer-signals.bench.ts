import { answerSignals } from '@app/featurizer';

/**
 * What one answer costs the escalation policy's signals (`POST /v1/route/{id}/continue`, and a proxied cascade's
 * examined answer), on the api's thread: answers of the largest size taken (1,000,000 characters) written to be
 * costly (calculator annotations back to back, brackets nested half a million deep with JSON asked for, a JSON
 * array of many small objects) against plain prose of the same length, in the same run. Prints the best of `rounds`
 * per answer in ms and its ratio to prose (near 1: no answer costs more than any text of its length).
 * Usage: npm run bench:answer-signals [-- rounds]   (default 5)
 */
const [rounds = 5] = process.argv.slice(2).map(Number);
const N = 1_000_000;
const fill = (unit: string) => unit.repeat(Math.floor(N / unit.length));
const answers: Record<string, { answer: string; jsonRequested: boolean }> = {
  prose: { answer: fill('The quick brown fox jumps over the lazy dog, then rests. '), jsonRequested: false },
  annotations: { answer: fill('<<1+2*3-4/5=7>> '), jsonRequested: false },
  'nested brackets': { answer: '['.repeat(N / 2) + ']'.repeat(N / 2), jsonRequested: true },
  'JSON array': { answer: `[${fill('{"a":1,"b":[2,3]},').slice(0, -1)}]`, jsonRequested: true },
};

const best = (answer: string, jsonRequested: boolean) => {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    answerSignals({ prompt: 'Solve it and answer in JSON', answer, jsonRequested });
    min = Math.min(min, performance.now() - t0);
  }
  return min;
};

const prose = best(answers.prose.answer, false);
for (const [name, { answer, jsonRequested }] of Object.entries(answers)) {
  const ms = name === 'prose' ? prose : best(answer, jsonRequested);
  console.log(`${name} (${answer.length.toLocaleString('en')} chars): ${ms.toFixed(1)} ms, ${(ms / prose).toFixed(2)}x prose`);
}
