import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisClient } from '@app/infra';
import { fromBlob, toBlob } from './blob.js';
import { RedisKeys } from './keys.js';

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const lua = (name: string) => readFileSync(join(LUA_DIR, name), 'utf8');

/** One learning item of a batch: the marker that makes it exactly-once, who claims it, its epoch. */
export interface BatchItem {
  marker: string;
  claimer: string;
  epoch: number;
}

export const ITEM_STATUS = { applicable: 1, alreadyApplied: 2, claimedByOther: 3, stale: 4, claimedInBatch: 5 } as const;
export type ItemStatus = (typeof ITEM_STATUS)[keyof typeof ITEM_STATUS];

export type ApplyResult = { kind: 'applied'; seq: number } | { kind: 'conflict'; statuses: ItemStatus[] } | { kind: 'uninitialised' } | { kind: 'busy' };

export interface StoredState {
  epoch: number | null;
  seq: number;
  /** Arm field name (without the "arm:" prefix) → packed statistics. */
  arms: Map<string, Float64Array>;
}

type Target = { state: string; markers: string; times: string; checkEpoch: boolean };

/** A delta in one of applyBatch-3.lua's formats (see its header): 0 dense, 1 arm statistics with xx's upper triangle, 2 without xx. */
export interface StateDelta {
  format: 0 | 1 | 2;
  d: number;
  heads: number;
  values: Float64Array;
}

/**
 * The smallest applyBatch form of an arm-statistics delta laid out as packArmStats does, [pulls, obs×h, sum×h,
 * xx (d²), xr (h·d)]: without xx when the batch had no decision for the arm (Σxxᵀ all zero, 6 % of the dense size at
 * d = 64), else with xx's upper triangle (a sum of x xᵀ is symmetric to the bit; 54 %). The script adds exactly the
 * numbers the dense delta would. Dense when the length does not match or xx is not exactly symmetric.
 */
export function compactArmDelta(v: Float64Array, d: number, heads: number): StateDelta {
  const head = 1 + 2 * heads;
  const len = head + d * d + heads * d;
  const dense: StateDelta = { format: 0, d, heads, values: v };
  if (v.length !== len) return dense;
  let zero = true;
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      const a = v[head + i * d + j];
      if (a !== v[head + j * d + i]) return dense;
      if (a !== 0) zero = false;
    }
  const out = new Float64Array(head + heads * d + (zero ? 0 : (d * (d + 1)) / 2));
  out.set(v.subarray(0, head));
  out.set(v.subarray(head + d * d, len), head);
  if (!zero) {
    let p = head + heads * d;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) out[p++] = v[head + i * d + j];
  }
  return { format: zero ? 2 : 1, d, heads, values: out };
}

interface Scripts {
  applyBatch(k1: string, k2: string, k3: string, ...args: (string | Buffer | number)[]): Promise<number[]>;
  replaceState(k1: string, k2: string, k3: string, ...args: (string | Buffer | number)[]): Promise<number[]>;
  lockRebuild(k1: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * Typed wrappers over the Lua scripts in ./lua (one script a file, key count in the name, contract in its
 * header), registered on the connection with defineCommand.
 */
export class PolicyStateStore {
  readonly keys: RedisKeys;
  private readonly r: RedisClient & Scripts;

  constructor(
    redis: RedisClient,
    prefix = 'rt',
    private readonly markerTtlMs = 24 * 3600 * 1000,
  ) {
    this.keys = new RedisKeys(prefix);
    this.r = redis as RedisClient & Scripts;
    if (!('applyBatch' in redis)) {
      redis.defineCommand('applyBatch', { numberOfKeys: 3, lua: lua('applyBatch-3.lua') });
      redis.defineCommand('replaceState', { numberOfKeys: 3, lua: lua('replaceState-3.lua') });
      redis.defineCommand('lockRebuild', { numberOfKeys: 1, lua: lua('lockRebuild-1.lua') });
    }
  }

  policyTarget(policy: string): Target {
    return { state: this.keys.state(policy), markers: this.keys.markers(policy), times: this.keys.markerTimes(policy), checkEpoch: true };
  }

  /** Applies `deltas` (per arm field: a dense blob, or a compactArmDelta form) if every item is applicable. */
  async apply(target: Target, items: readonly BatchItem[], deltas: ReadonlyMap<string, Float64Array | StateDelta>, now = Date.now()): Promise<ApplyResult> {
    const args: (string | Buffer | number)[] = [now, this.markerTtlMs, items.length, target.checkEpoch ? '1' : '0'];
    for (const it of items) args.push(it.marker, it.claimer, String(it.epoch));
    args.push(deltas.size);
    for (const [arm, v] of deltas) {
      const s = v instanceof Float64Array ? { format: 0, d: 0, heads: 0, values: v } : v;
      args.push(`arm:${arm}`, s.format, s.d, s.heads, toBlob(s.values));
    }
    const res = await this.r.applyBatch(target.state, target.markers, target.times, ...args);
    switch (res[0]) {
      case 1:
        return { kind: 'applied', seq: res[1] };
      case 0:
        return { kind: 'conflict', statuses: res.slice(1) as ItemStatus[] };
      case -1:
        return { kind: 'uninitialised' };
      default:
        return { kind: 'busy' };
    }
  }

  /** Replaces the state (create, reset, rebuild); with a token, only if that rebuild still holds the lock. */
  async replace(
    target: Target,
    epoch: number,
    arms: ReadonlyMap<string, Float64Array>,
    markers: readonly { marker: string; claimer: string }[] = [],
    token = '',
  ): Promise<number | null> {
    const args: (string | Buffer | number)[] = [Date.now(), String(epoch), token, markers.length];
    for (const m of markers) args.push(m.marker, m.claimer);
    args.push(arms.size);
    for (const [arm, v] of arms) args.push(`arm:${arm}`, toBlob(v));
    const res = await this.r.replaceState(target.state, target.markers, target.times, ...args);
    return res[0] === 1 ? res[1] : null;
  }

  lockRebuild(target: Target, token: string, ms = 60_000): Promise<number> {
    return this.r.lockRebuild(target.state, Date.now(), ms, token);
  }

  /** Which claimer holds `marker` (null when unset or expired). */
  markerOwner(target: Target, marker: string): Promise<string | null> {
    return this.r.hget(target.markers, marker);
  }

  async read(target: Target): Promise<StoredState> {
    const h = await this.r.hgetallBuffer(target.state);
    const arms = new Map<string, Float64Array>();
    let epoch: number | null = null;
    let seq = 0;
    for (const [k, v] of Object.entries(h)) {
      if (k === 'epoch') epoch = Number(v.toString());
      else if (k === 'seq') seq = Number(v.toString());
      else if (k.startsWith('arm:')) arms.set(k.slice(4), fromBlob(v));
    }
    return { epoch, seq, arms };
  }

  /**
   * seq and epoch of many policies in one round trip (the replicas' change detection): one command per policy,
   * sent together (auto-pipelined), since on a cluster the policies' hashes live in different slots and nodes.
   */
  async versions(policies: readonly string[]): Promise<{ seq: number; epoch: number | null }[]> {
    const res = await Promise.all(policies.map((name) => this.r.hmget(this.keys.state(name), 'seq', 'epoch')));
    return res.map(([seq, epoch]) => ({ seq: Number(seq ?? 0), epoch: epoch === null ? null : Number(epoch) }));
  }

  /** One DEL over the policy's three keys: they share its hash tag, so one slot. */
  async dropPolicy(policy: string): Promise<void> {
    await this.r.del(this.keys.state(policy), this.keys.markers(policy), this.keys.markerTimes(policy));
  }
}
