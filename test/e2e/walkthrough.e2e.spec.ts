import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_KEY, freshEnvironment, type Running, startService } from '../support/harness.js';

/**
 * The README's walkthrough (examples/walkthrough.mjs) runs top to bottom, as written, against the real api and
 * worker: it exits 0, every event it sent is learnt, and moving the objective towards energy sends the
 * translation prompts (which both models answer well) to the small model.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(root, 'examples/walkthrough.mjs');

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README walkthrough', () => {
  let env: Awaited<ReturnType<typeof freshEnvironment>>;
  let svc: Running;

  beforeAll(async () => {
    env = await freshEnvironment('walkthrough');
    svc = await startService(env, 1);
  });

  afterAll(async () => {
    await svc?.close();
    await env?.drop();
  });

  it('runs as written and shows what was learnt', async () => {
    const r = await run({ ROUTER_URL: svc.url, ADMIN_API_KEY: ADMIN_KEY });
    if (r.code !== 0 || process.env.SHOW_WALKTHROUGH) console.log(`walkthrough output (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');

    // Every step printed its heading, and the answers carried real ids.
    for (let step = 1; step <= 9; step++) expect(r.stdout).toMatch(new RegExp(`^== ${step}\\. `, 'm'));
    expect(r.stdout).toMatch(/"decisionId": "dec_[A-Za-z0-9_-]{20}"/);
    expect(r.stdout).toMatch(/^key key_[0-9a-f]{16} /m);
    expect(r.stdout).toMatch(/the first score posted again: \{"eventId":"score-dec_[A-Za-z0-9_-]{20}","status":"duplicate"\}/);
    expect(r.stdout).toMatch(/^audit: objective by bootstrap: energy 0 -> 0\.3$/m);
    expect(r.stdout).toMatch(/^route with the revoked key: 401 /m);

    // Learnt: 301 quality signals (a thumb and 300 scores) and 300 readings, each counted once, on both models.
    const summary = JSON.parse(/^summary (.*)$/m.exec(r.stdout)![1]) as {
      routes: number;
      decisions: number;
      pulls: number;
      feedback: number;
      energyReadings: number;
      before: Record<'maths' | 'translation', Record<'small' | 'large', number>>;
      after: Record<'maths' | 'translation', Record<'small' | 'large', number>>;
    };
    expect([summary.feedback, summary.energyReadings]).toEqual([301, 300]);
    // Step 8 reads the stats once every decision made is stored: 1 + 300 + 2 × 24 routes, and those that waited for
    // the new policy version (at least one).
    expect(summary.routes).toBeGreaterThanOrEqual(398);
    expect([summary.decisions, summary.pulls]).toEqual([summary.routes, summary.routes]);
    expect(r.stdout).toMatch(/^ {2}small +pulls +\d+ .* over \d+ scores .* over \d+ readings$/m);
    expect(r.stdout).toMatch(/^ {2}large +pulls +\d+ .* over \d+ scores .* over \d+ readings$/m);

    // The trade-off: with energy weighted, translations (equal quality) go to the small model, maths (where only
    // the large model is good) stays on the large one. 24 routes per task; the policy's ε = 0.1 explores now and then.
    console.log(`walkthrough routing: before ${JSON.stringify(summary.before)}, after ${JSON.stringify(summary.after)}`);
    expect(summary.after.translation.small).toBeGreaterThan(summary.before.translation.small);
    expect(summary.after.translation.small).toBeGreaterThanOrEqual(18);
    expect(summary.after.maths.large).toBeGreaterThanOrEqual(16);
  }, 120_000);
});
