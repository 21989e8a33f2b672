import { type CompiledArm, type LinearModel } from './linear-model.js';
import { HEAD_COUNT } from './objective.js';
import { assembleModule, Code, I32, V128 } from './wasm-asm.js';

/**
 * The per-request part of every linear policy's decision, in WebAssembly SIMD (f64x2, float64 throughout): for
 * each candidate arm the scalarised mean θ_sᵀx, the four head predictions θ_hᵀx and the squared width xᵀA⁻¹x.
 *
 * Each arm is packed once per change of its compiled state (a recompile, a local Sherman–Morrison update, new
 * weights: CompiledArm.version) into a shared linear-memory arena: the five coefficient vectors, then the upper
 * triangle of A⁻¹ row by row with the off-diagonal entries doubled (exact in binary), so that
 * xᵀA⁻¹x = Σ_i x_i Σ_{j ≥ i} P_ij x_j reads d(d+1)/2 numbers instead of d². Rows start at a multiple of 4 (zeros
 * before the diagonal) and d is padded to a multiple of 4, so every row is whole pairs of f64x2 vectors, summed
 * into two accumulators. A request copies x into the arena, writes the candidates' arena offsets and makes one
 * call; nothing is allocated. The plain TypeScript reference is linearEstimatesReference (linucb.ts); the two
 * agree to rounding (decision-kernel.spec.ts).
 *
 * The module is assembled from the instruction list below by wasm-asm.ts when this file loads. Without
 * WebAssembly SIMD, beyond {@link MAX_CANDIDATES} candidates or d > {@link MAX_DIM}, {@link kernelEstimates}
 * returns null and callers use the reference.
 */

/** Values per candidate in the output: [θ_sᵀx, θ_qualityᵀx, θ_energyᵀx, θ_costᵀx, θ_latencyᵀx, xᵀA⁻¹x]. */
export const KERNEL_OUT = 2 + HEAD_COUNT;
export const MAX_CANDIDATES = 1024;
export const MAX_DIM = 512;

const X_OFF = 0; // d ≤ 512 doubles
const TABLE_OFF = 4096; // MAX_CANDIDATES i32 offsets
const OUT_OFF = 8192; // MAX_CANDIDATES × KERNEL_OUT doubles (ends at 57,344)
const HEADER = 65536;
/** Arena bound: when full, every packed arm is dropped at once and repacked on its next use. */
let arenaBytes = 64 * 1024 * 1024;
const PAGE = 65536;

/** Index of the first output value in {@link kernelEstimates}' array. */
export const KERNEL_OUT_INDEX = OUT_OFF / 8;

/** d rounded up to a multiple of 4. */
export const paddedDim = (d: number): number => (d + 3) & ~3;

/** Doubles one packed arm takes: (1 + HEAD_COUNT) padded vectors and the row-aligned upper triangle. */
export function packedArmLength(d: number): number {
  const dp = paddedDim(d);
  let n = (1 + HEAD_COUNT) * dp;
  for (let i = 0; i < d; i++) n += dp - (i & ~3);
  return n;
}

/** Writes the packed form of `arm` (see the file comment) into `out` from `off`. */
export function packArm(arm: CompiledArm, d: number, out: Float64Array, off: number): void {
  const dp = paddedDim(d);
  const st = arm.scoreTheta;
  const th = arm.theta;
  for (let j = 0; j < dp; j++) out[off + j] = j < d ? st[j] : 0;
  for (let h = 0; h < HEAD_COUNT; h++) {
    const o = off + (1 + h) * dp;
    for (let j = 0; j < dp; j++) out[o + j] = j < d ? th[h * d + j] : 0;
  }
  const A = arm.Ainv;
  let p = off + (1 + HEAD_COUNT) * dp;
  for (let i = 0; i < d; i++) {
    const row = i * d;
    const j0 = i & ~3;
    for (let j = j0; j < i; j++) out[p++] = 0;
    out[p++] = A[row + i];
    for (let j = i + 1; j < d; j++) out[p++] = 2 * A[row + j];
    for (let j = d; j < dp; j++) out[p++] = 0;
  }
}

/**
 * estimates(n, table, x, rows, dp, out): for c < n, the arm packed at byte offset i32[table + 4c] against the
 * dp-padded x; writes KERNEL_OUT doubles per arm to out. rows = d computes the width term, rows = 0 skips it.
 */
function kernelCode(): Code {
  const [n, table, x, rows, dp, out] = [0, 1, 2, 3, 4, 5];
  const [c, p, xp, end, i, h] = [6, 7, 8, 9, 10, 11];
  const [acc0, acc1, qv] = [12, 13, 14];
  const f = new Code();
  // acc0/acc1 = 0, then Σ over [xp, end) of P·x in two f64x2 accumulators; p and xp advance past the row.
  const dotLoop = (): void => {
    f.v128Const0().localSet(acc0).v128Const0().localSet(acc1);
    f.loop();
    f.localGet(acc0).localGet(p).v128Load(0).localGet(xp).v128Load(0).f64x2Mul().f64x2Add().localSet(acc0);
    f.localGet(acc1).localGet(p).v128Load(16).localGet(xp).v128Load(16).f64x2Mul().f64x2Add().localSet(acc1);
    f.localGet(p).i32Const(32).i32Add().localSet(p);
    f.localGet(xp).i32Const(32).i32Add().localTee(xp).localGet(end).i32LtU().brIf(0);
    f.end();
  };
  // f64.store(out, lane0(v) + lane1(v)); out += 8
  const storeSum = (v: number): void => {
    f.localGet(out).localGet(v).f64x2ExtractLane(0).localGet(v).f64x2ExtractLane(1).f64Add().f64Store(0);
    f.localGet(out).i32Const(8).i32Add().localSet(out);
  };
  f.localGet(x).localGet(dp).i32Const(3).i32Shl().i32Add().localSet(end);
  f.block().loop();
  f.localGet(c).localGet(n).i32GeU().brIf(1);
  f.localGet(table).localGet(c).i32Const(2).i32Shl().i32Add().i32Load(0).localSet(p);
  // the 1 + HEAD_COUNT coefficient vectors
  f.i32Const(0).localSet(h);
  f.loop();
  f.localGet(x).localSet(xp);
  dotLoop();
  f.localGet(acc0).localGet(acc1).f64x2Add().localSet(acc0);
  storeSum(acc0);
  f.localGet(h)
    .i32Const(1)
    .i32Add()
    .localTee(h)
    .i32Const(1 + HEAD_COUNT)
    .i32LtU()
    .brIf(0);
  f.end();
  // Σ_i x_i · (row i of the packed triangle)·x
  f.v128Const0().localSet(qv).i32Const(0).localSet(i);
  f.block();
  f.localGet(rows).i32Eqz().brIf(0);
  f.loop();
  f.localGet(x).localGet(i).i32Const(-4).i32And().i32Const(3).i32Shl().i32Add().localSet(xp);
  dotLoop();
  f.localGet(qv).localGet(acc0).localGet(acc1).f64x2Add();
  f.localGet(x).localGet(i).i32Const(3).i32Shl().i32Add().f64Load(0).f64x2Splat();
  f.f64x2Mul().f64x2Add().localSet(qv);
  f.localGet(i).i32Const(1).i32Add().localTee(i).localGet(rows).i32LtU().brIf(0);
  f.end();
  f.end();
  storeSum(qv);
  f.localGet(c).i32Const(1).i32Add().localSet(c);
  f.br(0);
  f.end().end();
  return f;
}

/** The members of the WebAssembly JS API used here (the project's `lib` leaves out the DOM, which declares them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

type EstimatesFn = (n: number, table: number, x: number, rows: number, dp: number, out: number) => void;

interface Slot {
  epoch: number;
  version: number;
  base: number;
  bytes: number;
}

/** The linear memory, the packed arms in it (by compiled-arm identity) and the bump pointer. */
class Arena {
  private readonly memory: WasmMemory;
  private readonly run: EstimatesFn;
  private f64: Float64Array;
  private i32: Int32Array;
  private readonly slots = new WeakMap<CompiledArm, Slot>();
  private epoch = 0;
  private top = HEADER;

  constructor(wasm: WasmApi, bytes: Uint8Array) {
    const instance = new wasm.Instance(new wasm.Module(bytes), {});
    this.memory = instance.exports.memory as WasmMemory;
    this.run = instance.exports.estimates as EstimatesFn;
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  estimates(model: LinearModel, x: ArrayLike<number>, candidates: readonly number[], widths: boolean): Float64Array | null {
    const { d } = model;
    const n = candidates.length;
    const bytes = packedArmLength(d) * 8;
    if (HEADER + n * bytes > arenaBytes) return null;
    for (;;) {
      const epoch = this.epoch;
      for (let c = 0; c < n; c++) {
        const base = this.place(model.arms[candidates[c]], d, bytes); // may grow the memory and renew the views
        this.i32[TABLE_OFF / 4 + c] = base;
      }
      if (this.epoch === epoch) break; // the arena filled and restarted midway: place them all again
    }
    const f64 = this.f64;
    const dp = paddedDim(d);
    for (let i = 0; i < d; i++) f64[X_OFF / 8 + i] = x[i];
    for (let i = d; i < dp; i++) f64[X_OFF / 8 + i] = 0;
    this.run(n, TABLE_OFF, X_OFF, widths ? d : 0, dp, OUT_OFF);
    return f64;
  }

  /** Byte offset of `arm`'s packed form, (re)packing it if it changed since it was packed. */
  private place(arm: CompiledArm, d: number, bytes: number): number {
    let s = this.slots.get(arm);
    if (s && s.epoch === this.epoch && s.version === arm.version && s.bytes === bytes) return s.base;
    if (!s || s.epoch !== this.epoch || s.bytes !== bytes) {
      const base = this.alloc(bytes);
      s = { epoch: this.epoch, version: arm.version, base, bytes };
      this.slots.set(arm, s);
    }
    s.version = arm.version;
    packArm(arm, d, this.f64, s.base / 8);
    return s.base;
  }

  private alloc(bytes: number): number {
    if (this.top + bytes > arenaBytes) {
      this.epoch++;
      this.top = HEADER;
    }
    const base = this.top;
    this.top += bytes;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      const want = Math.max(this.top, Math.min(arenaBytes, 2 * have));
      this.memory.grow(Math.ceil((want - have) / PAGE));
      this.f64 = new Float64Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
    return base;
  }
}

/** The kernel module's bytes (exported for tests and for checking with other WebAssembly tools). */
export function kernelModuleBytes(): Uint8Array {
  return assembleModule(HEADER / PAGE + 1, [
    { name: 'estimates', params: [I32, I32, I32, I32, I32, I32], results: [], locals: [I32, I32, I32, I32, I32, I32, V128, V128, V128], code: kernelCode() },
  ]);
}

let arena: Arena | null | undefined;

function getArena(): Arena | null {
  if (arena === undefined) {
    try {
      const bytes = kernelModuleBytes();
      arena = wasmApi?.validate(bytes) ? new Arena(wasmApi, bytes) : null;
    } catch {
      arena = null;
    }
  }
  return arena;
}

/** Sets the arena bound in bytes (default 64 MiB; tests use a small one to exercise the restart). */
export function setKernelArenaBytes(bytes: number): void {
  arenaBytes = Math.max(HEADER + PAGE, bytes);
}

/** Whether the WebAssembly kernel is in use on this runtime. */
export const kernelAvailable = (): boolean => getArena() !== null;

/**
 * The kernel's outputs for `candidates` (arm indices of `model`) at context `x`: a Float64Array whose KERNEL_OUT
 * values per candidate start at {@link KERNEL_OUT_INDEX} (valid until the next call); the width term is 0 when
 * `widths` is false. Null when the kernel cannot serve the request (see the file comment).
 */
export function kernelEstimates(model: LinearModel, x: ArrayLike<number>, candidates: readonly number[], widths: boolean): Float64Array | null {
  if (candidates.length > MAX_CANDIDATES || model.d > MAX_DIM) return null;
  const a = getArena();
  return a === null ? null : a.estimates(model, x, candidates, widths);
}
