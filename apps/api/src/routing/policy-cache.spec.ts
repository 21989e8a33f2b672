import { applyLocalDecision, emptyArmStats, packArmStats, recordDecision } from '@app/bandits';
import { type Policy } from '@app/contracts';
import { type Logger } from '@app/infra';
import { replayPolicy } from '@app/replay';
import { type ModelEnergyStore, type PolicyStateStore, type RegistryStore } from '@app/store';
import { type ApiEnv } from '../config.js';
import { PolicyCache } from './policy-cache.service.js';
import { type StateRepair } from './state-repair.service.js';

/**
 * The replica's copy across failures of one policy's state, on stubs of our own stores: what each poll reads is
 * scripted, so a failed read followed by the very same state can be told apart from a change of state.
 */
function setUp(policies: Policy[]) {
  const version = new Map<string, () => { seq: number; epoch: number }>();
  for (const p of policies) version.set(p.name, () => ({ seq: 1, epoch: 1 }));
  const registry = { policies: () => Promise.resolve(policies), models: () => Promise.resolve([]) } as unknown as RegistryStore;
  const state = {
    versions: (names: string[]) => Promise.resolve().then(() => names.map((n) => version.get(n)!())),
    policyTarget: (name: string) => ({ state: name }),
    read: () => Promise.resolve({ epoch: 1, seq: 1, arms: new Map() }),
  } as unknown as PolicyStateStore;
  const energy = { read: () => Promise.resolve(new Map()) } as unknown as ModelEnergyStore;
  const repair = {
    republishRegistry: () => Promise.resolve(),
    modelEnergyMissing: () => undefined,
    policyStateMissing: () => undefined,
  } as unknown as StateRepair;
  const quiet = { child: () => quiet, warn: () => undefined, error: () => undefined, info: () => undefined } as unknown as Logger;
  const cache = new PolicyCache(registry, state, energy, repair, { REFRESH_INTERVAL_MS: 100, STATE_RECOMPILE_MS: 0 } as ApiEnv, quiet);
  return { cache, version };
}

const policy = (name: string): Policy => ({
  ...replayPolicy({ algorithm: 'linucb', arms: ['a', 'b'], dim: 8, objective: { quality: 1, energy: 0, cost: 0, latency: 0 }, params: {} }),
  name,
});

describe('PolicyCache: one policy whose state cannot be read', () => {
  it('holds up only itself, and is forgotten once the same state reads again', async () => {
    const { cache, version } = setUp([policy('p'), policy('q')]);
    await cache.refresh();
    expect([cache.get('p')?.seq, cache.get('q')?.seq, cache.lastError]).toEqual([1, 1, null]);

    version.set('p', () => {
      throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    });
    await cache.refresh();
    // p keeps its copy; q refreshed; the refresh says p's state is not being read.
    expect([cache.get('p')?.seq, cache.get('q')?.seq]).toEqual([1, 1]);
    expect(cache.lastError).toBe('state of p could not be read');
    expect(cache.compileError('p')).toMatch(/could not be read: WRONGTYPE/);

    // The same state readable again (nothing changed meanwhile): the failure is over, not stuck.
    version.set('p', () => ({ seq: 1, epoch: 1 }));
    await cache.refresh();
    expect([cache.lastError, cache.compileError('p')]).toEqual([null, undefined]);
  });

  it('a policy never read answers as failed, without a copy, while the others are served', async () => {
    const { cache, version } = setUp([policy('p'), policy('q')]);
    version.set('p', () => {
      throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    });
    await cache.refresh();
    expect([cache.get('p'), cache.get('q')?.policy.name]).toEqual([undefined, 'q']);
    expect(cache.compileError('p')).toBeDefined();
  });

  it('Redis itself away fails the whole refresh: every copy is kept as it was', async () => {
    const { cache, version } = setUp([policy('p'), policy('q')]);
    await cache.refresh();
    const before = cache.get('q');
    version.set('p', () => {
      throw new Error('Connection is closed.');
    });
    await expect(cache.refresh()).rejects.toThrow(/Connection is closed/);
    expect([cache.get('q'), cache.lastError]).toEqual([before, 'Connection is closed.']);
  });
});

describe('PolicyCache: recompiling a large policy', () => {
  const D = 160;
  const big: Policy = {
    ...replayPolicy({
      algorithm: 'linucb',
      arms: ['a', 'b', 'c', 'd', 'e', 'f'],
      dim: D,
      objective: { quality: 1, energy: 0, cost: 0, latency: 0 },
      params: {},
    }),
    name: 'big',
  };
  /** Arms with a few decisions each, `moved` of them with one more. */
  const stored = (moved: readonly string[]) =>
    new Map(
      big.arms.map((arm, a) => {
        const s = emptyArmStats(D);
        for (let i = 0; i < 3 + (moved.includes(arm) ? 1 : 0); i++)
          recordDecision(
            s,
            Float64Array.from({ length: D }, (_, j) => Math.sin(a + i * j)),
          );
        return [arm, packArmStats(s)];
      }),
    );

  function setUpBig() {
    let now = { seq: 1, arms: stored([]) };
    const registry = { policies: () => Promise.resolve([big]), models: () => Promise.resolve([]) } as unknown as RegistryStore;
    const state = {
      versions: () => Promise.resolve([{ seq: now.seq, epoch: 1 }]),
      policyTarget: (name: string) => ({ state: name }),
      read: () => Promise.resolve({ epoch: 1, seq: now.seq, arms: now.arms }),
    } as unknown as PolicyStateStore;
    const energy = { read: () => Promise.resolve(new Map()) } as unknown as ModelEnergyStore;
    const repair = { republishRegistry: () => Promise.resolve(), modelEnergyMissing: () => undefined } as unknown as StateRepair;
    const quiet = { child: () => quiet, warn: () => undefined, error: () => undefined } as unknown as Logger;
    const cache = new PolicyCache(registry, state, energy, repair, { REFRESH_INTERVAL_MS: 100, STATE_RECOMPILE_MS: 0 } as ApiEnv, quiet);
    return { cache, move: (seq: number, arms: string[]) => (now = { seq, arms: stored(arms) }) };
  }

  it('lets other work run while it compiles (every read answers at once here: only the compile can yield)', async () => {
    const { cache } = setUpBig();
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    await cache.refresh();
    counting = false;
    expect(cache.get('big')?.seq).toBe(1);
    // Six arms at d = 160 take tens of ms here: a turn every 2 ms of it (one per arm would give at most six).
    expect(turns).toBeGreaterThan(6);
  });

  it('recompiles only the arms that moved, keeping the others as this replica folded them', async () => {
    const { cache, move } = setUpBig();
    await cache.refresh();
    const before = cache.get('big')!;
    applyLocalDecision(
      before.model,
      0,
      Float64Array.from({ length: D }, () => 0.01),
      new Float64Array(2 * D),
    );
    const folded = Array.from(before.model.arms[0].Ainv);
    move(2, ['b']);
    // Waits out the spacing a long compile imposes (recompileEvery); until then the copy stands.
    for (let i = 0; i < 400 && cache.get('big')!.seq !== 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
      await cache.refresh();
    }
    const after = cache.get('big')!;
    expect(after.seq).toBe(2);
    expect(Array.from(after.model.arms[0].Ainv)).toEqual(folded);
    expect(after.model.arms[1].pulls).toBe(4);
    expect(after.model.arms[0]).not.toBe(before.model.arms[0]);
  });

  it('spaces the recompiles of a policy by five times its last compile', async () => {
    const { cache, move } = setUpBig();
    await cache.refresh();
    move(2, ['c']);
    await cache.refresh(); // at once: the copy stands, however the state moved
    expect(cache.get('big')?.seq).toBe(1);
  });
});
