import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildDataset, type Price, type RawRecord, type ReplayDataset, type SideInfo } from './dataset.js';
import { type PairRecord } from './duel-dataset.js';

/** Reads a JSONL file, one JSON value per non-empty line (errors name the line). */
export function readJsonl<T>(path: string): T[] {
  const out: T[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as T);
      } catch (err) {
        throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`, { cause: err });
      }
    });
  return out;
}

/** models.json prices and energy_profiles.json J/token, looked up beside the data file (absent files = unknown). */
export function readSideInfo(dataFile: string): SideInfo {
  const dir = dirname(dataFile);
  const prices = new Map<string, Price>();
  const joulesPerToken = new Map<string, number>();
  const modelsPath = join(dir, 'models.json');
  if (existsSync(modelsPath)) {
    const m = JSON.parse(readFileSync(modelsPath, 'utf8')) as { models: Record<string, { price?: unknown }> };
    for (const [name, v] of Object.entries(m.models)) {
      const p = v.price as { input_usd_per_1m?: number; output_usd_per_1m?: number } | string | undefined;
      if (p && typeof p === 'object' && typeof p.input_usd_per_1m === 'number' && typeof p.output_usd_per_1m === 'number')
        prices.set(name, { input: p.input_usd_per_1m, output: p.output_usd_per_1m });
    }
  }
  const energyPath = join(dir, 'energy_profiles.json');
  if (existsSync(energyPath)) {
    const e = JSON.parse(readFileSync(energyPath, 'utf8')) as { models: Record<string, { joules_per_output_token: number | null }> };
    for (const [name, v] of Object.entries(e.models)) if (typeof v.joules_per_output_token === 'number') joulesPerToken.set(name, v.joules_per_output_token);
  }
  return { prices, joulesPerToken };
}

export function loadDataset(path: string, models?: readonly string[]): ReplayDataset {
  return buildDataset(basename(path, '.jsonl'), readJsonl<RawRecord>(path), readSideInfo(path), models);
}

/** A pairwise file and the per-prompt file it was derived from (`<name>_pairwise.jsonl` → `<name>.jsonl`). */
export function loadPairs(path: string): { pairs: PairRecord[]; prompts: Map<string, string> } {
  const pairs = readJsonl<PairRecord>(path);
  const base = path.replace(/_pairwise\.jsonl$/, '.jsonl');
  if (base === path || !existsSync(base)) throw new Error(`${path}: the prompts file ${base} is needed beside it`);
  const prompts = new Map(readJsonl<RawRecord>(base).map((r) => [r.id, r.prompt]));
  return { pairs, prompts };
}
