import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * STYLE.md's dependency rules, checked mechanically: the learning libs stay pure (no Nest, no drivers, no node
 * I/O, no Math.random), libs never import apps, apps never import each other, and libs read no process.env.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
const code = (file: string) =>
  readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
const source = (file: string) => !file.endsWith('.spec.ts') && !file.includes('/testing/');

describe('architecture', () => {
  it('libs/bandits and libs/featurizer are pure', () => {
    const bad: string[] = [];
    for (const lib of ['bandits', 'featurizer'])
      for (const f of files(join(root, 'libs', lib)).filter(source)) {
        for (const m of imports(f))
          if (/^(@nestjs|ioredis|bullmq|postgres|node:fs|node:net|node:http|fs|net|http)/.test(m) || m.startsWith('@app/'))
            bad.push(`${relative(root, f)} imports ${m}`);
        if (/Math\.random\(/.test(code(f))) bad.push(`${relative(root, f)} calls Math.random`);
      }
    expect(bad).toEqual([]);
  });

  it('libs never import apps or read process.env; apps never import each other', () => {
    const bad: string[] = [];
    for (const f of files(join(root, 'libs')).filter(source)) {
      for (const m of imports(f)) if (m.includes('apps/')) bad.push(`${relative(root, f)} imports ${m}`);
      if (/process\.env/.test(code(f))) bad.push(`${relative(root, f)} reads process.env`);
    }
    for (const [app, other] of [
      ['api', 'worker'],
      ['worker', 'api'],
    ])
      for (const f of files(join(root, 'apps', app)))
        for (const m of imports(f)) if (m.includes(`/${other}/`) || m.includes(`apps/${other}`)) bad.push(`${relative(root, f)} imports ${m}`);
    expect(bad).toEqual([]);
  });
});
