import { randomBytes } from 'node:crypto';
import { type RedisClient } from '@app/infra';
import { fromBlob, toBlob } from './blob.js';
import { KeyQueue } from './key-queue.js';
import { RedisKeys } from './keys.js';
import { type StateSnapshot, StateSnapshots } from './state-snapshots.js';
import { luaSource } from './lua-source.js';

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

/** Attempts of one apply before it gives up (every failed attempt means another write committed in between). */
const MAX_ATTEMPTS = 1000;

/** Every write of a state hash sets a rev no other write sets: this process's random prefix and a counter. */
const REV_PREFIX = randomBytes(6).toString('base64url');
let revCounter = 0;
const nextRev = (): string => `${REV_PREFIX}.${(++revCounter).toString(36)}`;

/**
 * An arm's new value: the stored value plus the delta, value by value (float64, the stored value on the left),
 * written into `into` when it has the right length (else a new array), or a copy of the delta when nothing of that
 * length is stored (a new arm, or a changed layout). The stored value is left as it was.
 */
export function addToStored(stored: Float64Array | null | undefined, delta: Float64Array, into?: Float64Array): Float64Array {
  if (!stored || stored.length !== delta.length) return delta.slice();
  const out = into?.length === delta.length ? into : new Float64Array(delta.length);
  for (let i = 0; i < out.length; i++) out[i] = stored[i] + delta[i];
  return out;
}

/**
 * Bytes of arm values a process keeps of the states it writes (StateSnapshots): 64 MiB, about 30 policies of 16 arms
 * at d = 64 (each arm's value and its spare, 8,457 numbers each).
 */
export const SNAPSHOT_BYTES = 64 * 1024 * 1024;

interface Scripts {
  commitBatch(k1: string, k2: string, k3: string, args: (string | Buffer | number)[]): Promise<number[]>;
  replaceState(k1: string, k2: string, k3: string, args: (string | Buffer | number)[]): Promise<number[]>;
  lockRebuild(k1: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * Typed wrappers over the Lua scripts in ./lua (one script a file, key count in the name, contract in its
 * header), registered on the connection with defineCommand.
 */
export class PolicyStateStore {
  readonly keys: RedisKeys;
  private readonly r: RedisClient & Scripts;
  /** The arms this process last wrote, per state (see apply). */
  private readonly snapshots: StateSnapshots;
  private readonly commits = new KeyQueue();

  constructor(
    redis: RedisClient,
    prefix = 'rt',
    /** How long a marker lives after it is set (commitBatch expires older ones). */
    readonly markerTtlMs = 24 * 3600 * 1000,
    snapshotBytes = SNAPSHOT_BYTES,
  ) {
    this.snapshots = new StateSnapshots(snapshotBytes);
    this.keys = new RedisKeys(prefix);
    this.r = redis as RedisClient & Scripts;
    if (!('commitBatch' in redis)) {
      redis.defineCommand('commitBatch', { numberOfKeys: 3, lua: luaSource('commitBatch-3.lua') });
      redis.defineCommand('replaceState', { numberOfKeys: 3, lua: luaSource('replaceState-3.lua') });
      redis.defineCommand('lockRebuild', { numberOfKeys: 1, lua: luaSource('lockRebuild-1.lua') });
    }
  }

  policyTarget(policy: string): Target {
    return { state: this.keys.state(policy), markers: this.keys.markers(policy), times: this.keys.markerTimes(policy), checkEpoch: true };
  }

  /**
   * Adds `deltas` (per arm, dense, in the stored layout) to the state if every item is applicable, exactly once:
   * takes the arms it touches as this process last wrote them (or reads them), adds here, and commits with
   * commitBatch-3.lua, which writes only if the state has not changed since (else: read, add and commit again).
   */
  apply(target: Target, items: readonly BatchItem[], deltas: ReadonlyMap<string, Float64Array>, now?: number): Promise<ApplyResult> {
    // One commit per state at a time in this process: parallel passes then find the snapshot the previous one left
    // instead of reading the arms and racing to a refused commit.
    return this.commits.run(target.state, () => this.commit(target, items, deltas, now));
  }

  private async commit(target: Target, items: readonly BatchItem[], deltas: ReadonlyMap<string, Float64Array>, at?: number): Promise<ApplyResult> {
    const fields = Array.from(deltas.keys(), (arm) => `arm:${arm}`);
    for (let attempt = 1; ; attempt++) {
      const snap = await this.snapshot(target.state, fields);
      const rev = nextRev();
      const now = at ?? Date.now();
      const args: (string | Buffer | number)[] = [now, this.markerTtlMs, items.length, target.checkEpoch ? '1' : '0', snap.seq, snap.rev, rev];
      for (const it of items) args.push(it.marker, it.claimer, String(it.epoch));
      args.push(fields.length);
      const next: Float64Array[] = [];
      for (const delta of deltas.values()) {
        const f = fields[next.length];
        next.push(addToStored(snap.arms.get(f), delta, snap.spare.get(f)));
        args.push(f, toBlob(next[next.length - 1]));
      }
      const res = await this.r.commitBatch(target.state, target.markers, target.times, args);
      // The snapshot is this call's alone until it goes back: updated when applied, as it was when nothing was
      // written, not at all when the state is gone or changed.
      if (res[0] === 1) {
        next.forEach((v, i) => {
          const old = snap.arms.get(fields[i]);
          if (old?.length === v.length) snap.spare.set(fields[i], old);
          snap.arms.set(fields[i], v);
        });
        this.snapshots.set(target.state, { ...snap, seq: String(res[1]), rev });
        return { kind: 'applied', seq: res[1] };
      }
      // Nothing written: kept as read, unless the hash has no rev (written before revs, or by an older worker):
      // (seq, '') is not unique across a flush and a rebuild by such a writer.
      if ((res[0] === 0 || res[0] === -2) && snap.rev !== '') this.snapshots.set(target.state, snap);
      if (res[0] === 0) return { kind: 'conflict', statuses: res.slice(1) as ItemStatus[] };
      if (res[0] === -1) return { kind: 'uninitialised' };
      if (res[0] === -2) return { kind: 'busy' };
      if (attempt >= MAX_ATTEMPTS) throw new Error(`state ${target.state} changed under ${MAX_ATTEMPTS} attempts in a row; the batch will be retried`);
      // Another writer of the same state got in first: from the second refusal on, a short random pause spreads them.
      if (attempt >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt)));
    }
  }

  /**
   * The state's version and the arms `fields` at it, owned by the caller: this process's snapshot (taken out of the
   * cache) when it still holds them all, else read.
   */
  private async snapshot(state: string, fields: readonly string[]): Promise<StateSnapshot> {
    const known = this.snapshots.take(state);
    if (known) {
      const missing = fields.filter((f) => !known.arms.has(f));
      if (missing.length === 0) return known;
      const got = await this.readArms(state, missing);
      if (got.seq === known.seq && got.rev === known.rev) {
        for (const [f, v] of got.arms) known.arms.set(f, v);
        return known;
      }
    }
    return this.readArms(state, fields);
  }

  /** `fields` of a state hash with its version, in one HMGET (atomic). */
  private async readArms(state: string, fields: readonly string[]): Promise<StateSnapshot> {
    const [seq, rev, ...stored] = await this.r.hmgetBuffer(state, 'seq', 'rev', ...fields);
    const arms = new Map(
      fields.map((f, i) => {
        const b = stored[i];
        return [f, b ? fromBlob(b) : null];
      }),
    );
    return { seq: seq?.toString() ?? '0', rev: rev?.toString() ?? '', arms, spare: new Map() };
  }

  /**
   * Replaces the state (create, reset, rebuild); with a token, only if that rebuild still holds the lock. One script
   * call, so one atomic step, whatever the number of markers: the arguments go as one array, never spread into a
   * call (a fold of a long log has hundreds of thousands of markers, past what a spread may carry).
   */
  async replace(
    target: Target,
    epoch: number,
    arms: ReadonlyMap<string, Float64Array>,
    markers: readonly { marker: string; claimer: string }[] = [],
    token = '',
  ): Promise<number | null> {
    const args: (string | Buffer | number)[] = [Date.now(), String(epoch), token, nextRev(), markers.length];
    for (const m of markers) args.push(m.marker, m.claimer);
    args.push(arms.size);
    for (const [arm, v] of arms) args.push(`arm:${arm}`, toBlob(v));
    this.snapshots.delete(target.state);
    const res = await this.r.replaceState(target.state, target.markers, target.times, args);
    return res[0] === 1 ? res[1] : null;
  }

  lockRebuild(target: Target, token: string, ms = 60_000): Promise<number> {
    return this.r.lockRebuild(target.state, Date.now(), ms, token);
  }

  /** Which claimer holds `marker` (null when unset or expired). */
  markerOwner(target: Target, marker: string): Promise<string | null> {
    return this.r.hget(target.markers, marker);
  }

  /** Which claimer holds each of `markers` (null when unset or expired), in one HMGET. */
  async markerOwners(target: Target, markers: readonly string[]): Promise<(string | null)[]> {
    return markers.length === 0 ? [] : this.r.hmget(target.markers, ...markers);
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

  /** One DEL over the policy's keys (and those of earlier layouts): they share its hash tag, so one slot. */
  async dropPolicy(policy: string): Promise<void> {
    this.snapshots.delete(this.keys.state(policy));
    await this.r.del(this.keys.state(policy), this.keys.markers(policy), this.keys.markerTimes(policy), ...this.keys.legacyStateKeys(policy));
  }
}
