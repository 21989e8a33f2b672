import { execFileSync } from 'node:child_process';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createRng } from '@app/bandits';
import { ADMIN_KEY, client, freshEnvironment, type Running, settled, startService } from '../support/harness.js';

type Env = Awaited<ReturnType<typeof freshEnvironment>>;

/** Debian's `chromium` (CHROMIUM_PATH to use another build); puppeteer-core downloads no browser. */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no chromium on PATH: apt-get install -y chromium, or set CHROMIUM_PATH');
  }
}

const N = 300;

/**
 * The operator dashboard in a real browser (headless Chromium): sign in, charts drawn from the time series, the
 * frontier, a weight previewed with the slider, applied, and reverted from the audit log; each step checked
 * through the API. Traffic as in evaluate.e2e (ε = 0.2, so the log supports evaluating other weights).
 */
describe('dashboard', () => {
  let env: Env;
  let svc: Running;
  let browser: Browser;

  beforeAll(async () => {
    env = await freshEnvironment('dashboard');
    svc = await startService(env, 1);
    browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const c = client(svc.url);
    expect((await c.put('/admin/models/small', { energy: { joulesPerOutputToken: 0.1 } })).status).toBe(200);
    expect((await c.put('/admin/models/large', { energy: { joulesPerOutputToken: 1 } })).status).toBe(200);
    const policy = {
      algorithm: 'linucb',
      arms: ['small', 'large'],
      features: { source: 'caller', dim: 2 },
      params: { expectedOutputTokens: 100, alpha: 0.2, epsilon: 0.2 },
      budget: { energyJoulesPerRequest: 80 },
    };
    expect((await c.put('/admin/policies/dash', policy)).status).toBe(201);
    const rng = createRng(7);
    for (let i = 0; i < N; i++) {
      const hard = rng.next() < 0.5;
      const r = await c.post('/v1/route', { policy: 'dash', features: [1, hard ? 1 : 0] });
      const large = r.body.model === 'large';
      const q = rng.next() < (large ? (hard ? 0.9 : 0.95) : hard ? 0.2 : 0.9) ? 1 : 0;
      expect((await c.post('/v1/feedback', { decisionId: r.body.decisionId, reward: q })).status).toBe(202);
      expect((await c.post('/v1/energy', { decisionId: r.body.decisionId, joules: large ? 100 : 10 })).status).toBe(202);
    }
    await settled(async () => (await c.get('/admin/policies/dash/stats')).body, ['feedback', 'energyReadings'], 300);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    await env?.drop();
  });

  it('serves the page without a key, under a strict CSP, with its assets from the api', async () => {
    const page = await fetch(`${svc.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<style|style=|https?:\/\//);
    const slash = await fetch(`${svc.url}/dashboard/`, { redirect: 'manual' });
    expect([slash.status, new URL(slash.headers.get('location')!, slash.url).pathname]).toEqual([308, '/dashboard']);
    expect(slash.headers.get('content-security-policy')).toBe(csp);
    const chart = await fetch(`${svc.url}/dashboard/chart.umd.min.js`);
    expect([chart.status, chart.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    for (const path of [
      '/dashboard/nope.js',
      '/dashboard/types.d.ts',
      '/dashboard/..%2Fdashboard-assets.ts',
      '/dashboard/index.html',
      '/dashboard/constructor',
      '/dashboard/__proto__',
      '/dashboard/a/b',
      '/dashboard/x/',
    ]) {
      const r = await fetch(svc.url + path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect([r.headers.get('content-security-policy'), r.headers.get('x-frame-options')]).toEqual([csp, 'DENY']);
    }
  });

  it('the time series has the mean feedback lag per bucket and model', async () => {
    const ts = (await client(svc.url).get('/admin/policies/dash/timeseries?bucket=1h')).body;
    expect(ts.points.length).toBeGreaterThan(0);
    for (const p of ts.points) {
      expect(p.feedback).toBe(p.decisions);
      expect(p.feedbackLagMs).toBeGreaterThanOrEqual(0);
      expect(p.feedbackLagMs).toBeLessThan(60_000);
    }
  });

  it('signs in, draws the charts with data, previews a weight, applies it and reverts it from the audit log', async () => {
    const c = client(svc.url);
    const page: Page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));

    await page.goto(`${svc.url}/dashboard`, { waitUntil: 'networkidle0' });

    // A wrong key: the API's problem detail is shown, and the sign-in form stays.
    await page.type('#key', 'not-a-key');
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#status.error:not([hidden])');
    expect(await page.$eval('#status', (e) => e.textContent)).toContain('401: unknown or revoked key');
    expect(await page.$eval('#signin', (e) => e.hidden)).toBe(false);
    problems.length = 0; // the browser logs the refused fetch itself

    await page.type('#key', ADMIN_KEY);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#app[data-state=ready]');
    expect(await page.$eval('#policy', (e: any) => e.value)).toBe('dash');
    // (Callbacks of page.evaluate run in the page: `globalThis` there is the window; this project has no DOM types.)
    const stored = await page.evaluate(() => {
      const w = globalThis as any;
      return [w.sessionStorage.length, w.localStorage.length, w.location.href.includes('test-admin')];
    });
    expect(stored).toEqual([1, 0, false]);

    // Charts drawn with data: Chart.js's own instances on the canvases hold the points.
    const drawn: Record<string, { points: number; labels: string[] }> = await page.evaluate(() => {
      const w = globalThis as any;
      return Object.fromEntries(
        ['chart-share', 'chart-quality', 'chart-energy', 'chart-cost', 'chart-latency', 'chart-frontier', 'chart-feedback'].map((id) => {
          const chart = w.Chart.getChart(id);
          const labels = chart ? chart.data.datasets.map((d: any) => d.label) : [];
          return [id, { points: Number(w.document.getElementById(id)?.dataset.points), labels }];
        }),
      );
    });
    expect(drawn['chart-share'].labels.sort()).toEqual(['large', 'small']);
    for (const id of ['chart-share', 'chart-quality', 'chart-energy', 'chart-frontier', 'chart-feedback'])
      expect({ id, drawn: drawn[id].points > 0 }).toEqual({ id, drawn: true });
    expect(drawn['chart-cost'].points).toBe(0); // no proxied calls: no realised cost
    expect(drawn['chart-frontier'].labels).toContain('quality 95% interval');
    const shareTotal = await page.evaluate(() => {
      const sets: { data: (number | null)[] }[] = (globalThis as any).Chart.getChart('chart-share').data.datasets;
      const last = Math.max(...sets.map((d) => d.data.findLastIndex((v) => v !== null)));
      return sets.reduce((s, d) => s + Number(d.data[last]), 0);
    });
    expect(shareTotal).toBeCloseTo(100, 6);

    const text = (sel: string) => page.$eval(sel, (e) => e.textContent ?? '');
    expect(await text('#budget')).toMatch(/energy per request\s*80 J/);
    expect(await text('#health')).toMatch(/small\s*closed/);
    expect(await text('#feedback-totals')).toContain(`${N} / ${N}`);

    // Move the slider (keyboard: 10 steps of 0.05) and see the estimate for energy weight 0.5.
    await page.focus('#slider');
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#preview[data-state=ready][data-value="0.5"]', { timeout: 20_000 });
    const preview = await text('#preview');
    expect(preview).toContain('energy = 0.5: estimate [95% CI]');
    expect(preview).toMatch(/quality\s*0\.\d+ \[0\.\d+, 0\.\d+\]/);
    expect(preview).toContain('Would route: ');

    // Apply: the API has the new objective and an audited change.
    await page.click('#apply');
    const status = (part: string) =>
      page.waitForFunction((t: string) => (globalThis as any).document.querySelector('#status.info')?.textContent.includes(t), {}, part);
    await status('energy weight set to 0.5');
    expect((await c.get('/admin/policies/dash')).body.objective).toEqual({ quality: 1, energy: 0.5, cost: 0, latency: 0 });
    const applied = (await c.get('/admin/policies/dash/audit')).body.audit[0];
    expect(applied).toMatchObject({ action: 'objective', actor: 'bootstrap', after: { objective: { energy: 0.5 } } });

    // Revert it from the audit list.
    await page.waitForSelector(`#audit button.revert[data-audit-id="${applied.id}"]`);
    await page.click(`#audit button.revert[data-audit-id="${applied.id}"]`);
    await status('reverted');
    expect((await c.get('/admin/policies/dash')).body.objective).toEqual({ quality: 1, energy: 0, cost: 0, latency: 0 });
    expect((await c.get('/admin/policies/dash/audit')).body.audit[0]).toMatchObject({ action: 'revert', after: { objective: { energy: 0 } } });
    await page.waitForSelector('#app[data-state=ready]');
    expect(await page.$eval('#policy-summary', (e) => e.textContent)).toContain('energy 0 ·');

    // Same origin only, and the key never in a URL.
    for (const u of urls) expect(u.startsWith(`${svc.url}/`) && !u.includes(ADMIN_KEY)).toBe(true);
    expect(problems).toEqual([]);
    if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
    await page.close();
  }, 60_000);
});
