import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { featurize } from '@app/featurizer';
import {
  aggregate,
  buildDuelDataset,
  formatTable,
  loadDataset,
  loadPairs,
  meanSd,
  readJsonl,
  reference,
  renderSvg,
  runDuelReplay,
  runReplay,
  warmStartFromFile,
  warmStartFromSplit,
  type RawRecord,
  type ReplayDataset,
  type ResultRow,
  type RunMetrics,
  type WarmStart,
} from '@app/replay';
import { parseArgs, USAGE, UsageError, type ReplayArgs } from './args.js';
import { cascadeMode } from './cascade-mode.js';
import { replaySpec } from './replay-spec.js';
import { replayViaHttp } from './via-http.js';

const DEFAULT_DATA_DIR = '../shared/data';

/** A bare file name is looked up in REPLAY_DATA_DIR (default ../shared/data). */
function resolveData(file: string, flag = '--data'): string {
  if (isAbsolute(file) || existsSync(file)) return file;
  const inDir = join(process.env.REPLAY_DATA_DIR || DEFAULT_DATA_DIR, file);
  if (existsSync(inDir)) return inDir;
  throw new UsageError(`${flag}: ${file} not found (nor in ${process.env.REPLAY_DATA_DIR || DEFAULT_DATA_DIR}; set REPLAY_DATA_DIR)`);
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function writeOutputs(args: ReplayArgs, json: unknown, svg: () => string): void {
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${args.json}`);
  }
  if (args.svg) {
    writeFileSync(args.svg, svg());
    log(`wrote ${args.svg}`);
  }
}

/** --prior-data / --prior-split: the prior to start from and the records to replay (undefined: a cold start). */
function warmStartOf(args: ReplayArgs, path: string, ds: ReplayDataset): WarmStart | undefined {
  if (args.priorData !== undefined) {
    const file = resolveData(args.priorData, '--prior-data');
    return warmStartFromFile(file, readJsonl<RawRecord>(file), ds, args.dim, args.priorWeight);
  }
  if (args.priorSplit !== undefined) return warmStartFromSplit(args.priorSplit, readJsonl<RawRecord>(path), ds, args.dim, args.priorWeight);
  return undefined;
}

function duelMode(args: ReplayArgs, path: string): void {
  if (args.priorData !== undefined || args.priorSplit !== undefined)
    throw new UsageError('a pairwise file replays duels from a cold start: no --prior-data or --prior-split');
  for (const a of args.algorithms)
    if (a !== 'fgts-cdb' && a !== 'random') throw new UsageError(`a pairwise file replays duels: --algorithm fgts-cdb or random, not ${a}`);
  const { pairs, prompts } = loadPairs(path);
  const ds = buildDuelDataset(
    path
      .split('/')
      .pop()!
      .replace(/\.jsonl$/, ''),
    pairs,
    prompts,
  );
  const features = ds.prompts.map((p) => featurize(p.prompt, args.dim));
  log(`${ds.name}: ${ds.prompts.length} prompts, ${ds.models.length} models, ${pairs.length} preference records`);
  const results = args.algorithms.map((algorithm) => {
    const runs = Array.from({ length: args.seeds }, (_, s) => {
      const t0 = Date.now();
      const r = runDuelReplay(ds, features, algorithm as 'fgts-cdb' | 'random', s, args.limit);
      log(`  ${algorithm} seed ${s}: preference regret ${r.regret.toFixed(1)} over ${r.rounds} duels (${Date.now() - t0} ms)`);
      return r;
    });
    return {
      algorithm,
      seeds: runs.length,
      rounds: runs[0].rounds,
      preferenceRegret: meanSd(runs.map((r) => r.regret)),
      floor: runs[0].floor,
      excessRegret: meanSd(runs.map((r) => r.regret - r.floor)),
      perRound: meanSd(runs.map((r) => r.regret / r.rounds)),
      curve: runs[0].curve.map((p, i) => ({ round: p.round, regret: runs.reduce((s, r) => s + r.curve[i].regret, 0) / runs.length })),
    };
  });
  console.log(`${ds.name}: cumulative preference regret (u = (grade − 1) / 9), mean ± sd over ${args.seeds} seeds`);
  for (const r of results)
    console.log(
      `${r.algorithm} | ${r.preferenceRegret.mean.toFixed(1)} ± ${r.preferenceRegret.sd.toFixed(1)} over ${r.rounds} duels | ${r.perRound.mean.toFixed(4)} per duel | ` +
        `above the two-different-models floor (${r.floor.toFixed(1)}): ${r.excessRegret.mean.toFixed(1)} ± ${r.excessRegret.sd.toFixed(1)}`,
    );
  writeOutputs(args, { dataset: ds.name, models: ds.models, mode: 'duel', results }, () => duelSvg(ds.name, results));
}

function duelSvg(name: string, results: { algorithm: string; curve: { round: number; regret: number }[] }[]): string {
  const W = 480;
  const H = 280;
  const maxX = Math.max(...results.flatMap((r) => r.curve.map((p) => p.round)));
  const maxY = Math.max(...results.flatMap((r) => r.curve.map((p) => p.regret)));
  const colors = ['#1b6ca8', '#d1495b', '#66a182'];
  const lines = results.map(
    (r, i) =>
      `<polyline fill="none" stroke="${colors[i % 3]}" stroke-width="1.5" points="${r.curve.map((p) => `${(40 + (p.round / maxX) * (W - 60)).toFixed(1)},${(H - 30 - (p.regret / maxY) * (H - 60)).toFixed(1)}`).join(' ')}"/>` +
      `<text x="${50 + i * 120}" y="${H - 6}" font-size="11" fill="${colors[i % 3]}">${r.algorithm}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="${W / 2}" y="16" text-anchor="middle" font-size="12">${name}: cumulative preference regret (max ${maxY.toFixed(1)}) over ${maxX} duels</text>${lines.join('')}</svg>\n`;
}

/** One row per (algorithm, objective): its seeds replayed in process, or through a running service (--via-http). */
async function replayRows(args: ReplayArgs, ds: ReplayDataset, features: Float64Array[], best: number, warm: WarmStart | undefined): Promise<ResultRow[]> {
  const priorUpload = warm && { records: warm.records, maxWeight: args.priorWeight };
  const rows: ResultRow[] = [];
  const total = args.algorithms.length * args.objectives.length * args.seeds;
  let done = 0;
  for (const algorithm of args.algorithms)
    for (const objective of args.objectives) {
      const runs: RunMetrics[] = [];
      for (let seed = 0; seed < args.seeds; seed++) {
        const t0 = Date.now();
        const spec = replaySpec(args, algorithm, objective, warm);
        const m = args.viaHttp
          ? await replayViaHttp(
              args.viaHttp,
              args.adminKey,
              ds,
              best,
              spec,
              seed,
              (n, T) => process.stderr.write(`\r  ${algorithm} seed ${seed}: ${n}/${T}`),
              priorUpload,
            )
          : runReplay(ds, features, best, spec, seed);
        runs.push(m);
        done++;
        log(
          `${args.viaHttp ? '\n' : ''}[${done}/${total}] ${algorithm} ${JSON.stringify(objective)} seed ${seed}: quality ${m.quality.toFixed(4)} cost $${m.costUsd.toExponential(3)} energy ${m.energyJ.toFixed(2)} J (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
      rows.push(aggregate(algorithm, objective, ds.models, runs, args.budget));
    }
  return rows;
}

/** The --json report of a per-prompt replay. */
function reportJson(ds: ReplayDataset, ref: ReturnType<typeof reference>, rows: ResultRow[], warm: WarmStart | undefined) {
  return {
    dataset: ds.name,
    models: ds.models,
    reference: {
      bestSingle: ref.bestSingle,
      oracleQuality: ref.oracleQuality,
      randomQuality: ref.randomQuality,
      randomCostUsd: ref.randomCostUsd,
      randomEnergyJ: ref.randomEnergyJ,
      perTaskBest: ref.perTaskBest,
      perModel: ref.perModel,
      energyKnown: ds.energyKnown,
    },
    results: rows,
    ...(warm ? { prior: warm.report } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const path = resolveData(args.data);
  if (path.endsWith('_pairwise.jsonl')) return duelMode(args, path);
  const loaded = loadDataset(path, args.models);
  const warm = warmStartOf(args, path, loaded);
  const ds = warm?.dataset ?? loaded;
  if (warm)
    log(
      `warm start (${warm.report.source}): prior fitted on ${warm.report.outcomes} outcomes of ${warm.report.records} records, maxWeight ${warm.report.weight}`,
    );
  if (ds.records.length === 0) throw new UsageError(`${path}: no complete records for the selected models`);
  if (args.cascade) {
    const priorDataPath = args.priorData === undefined ? undefined : resolveData(args.priorData, '--prior-data');
    return writeOutputs(args, cascadeMode({ args, path, ds, warm, priorDataPath }), () => '');
  }
  const ref = reference(ds);
  const best = ds.models.indexOf(ref.bestSingle.model);
  log(`${ds.name}: ${ds.records.length} complete records (${ds.skipped} skipped), ${ds.models.length} models; featurizing (dim ${args.dim})…`);
  const features = ds.records.map((r) => featurize(r.prompt, args.dim));
  const rows = await replayRows(args, ds, features, best, warm);
  console.log(
    `${ds.name} (${ds.records.length} prompts, ${ds.models.length} models, ${args.seeds} seeds, delay ${args.delay}${args.viaHttp ? `, via ${args.viaHttp}` : ''}${warm ? `, warm start: prior from ${warm.report.records} records of ${warm.report.file ?? `a ${warm.report.fraction} split`}` : ''})`,
  );
  console.log(formatTable(ref, rows, ds.energyKnown, rows[0]?.curve.at(-1)?.round ?? ds.records.length));
  const json = reportJson(ds, ref, rows, warm);
  writeOutputs(args, json, () => renderSvg(ds.name, ref, rows, ds.energyKnown));
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    if (err.message) process.stderr.write(`error: ${err.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`replay failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
