/**
 * A minimal WebAssembly binary assembler: just what the decision kernel (decision-kernel.ts) needs — one module
 * with its own exported memory and a few functions over i32, f64 and v128 (SIMD) values. The instructions are
 * written in text order as calls (`f.op.localGet(0)`), and the module's bytes are built in memory at load time,
 * so nothing is downloaded or generated at install. Encoding: WebAssembly Core Specification 2.0, §5 (binary
 * format) and the fixed-width SIMD opcodes (prefix 0xFD).
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number, out: number[]): void {
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

const utf8 = (s: string, out: number[]): void => {
  const b = new TextEncoder().encode(s);
  uleb(b.length, out);
  for (const x of b) out.push(x);
};

/** Instruction emitter for one function body; every method appends one instruction and returns `this`. */
export class Code {
  readonly bytes: number[] = [];
  private simd(op: number): this {
    this.bytes.push(0xfd);
    uleb(op, this.bytes);
    return this;
  }
  /** memarg: alignment exponent and constant offset. */
  private mem(op: number, align: number, offset: number, simd = false): this {
    if (simd) this.simd(op);
    else this.bytes.push(op);
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }
  block(): this {
    this.bytes.push(0x02, 0x40);
    return this;
  }
  loop(): this {
    this.bytes.push(0x03, 0x40);
    return this;
  }
  end(): this {
    this.bytes.push(0x0b);
    return this;
  }
  br(depth: number): this {
    this.bytes.push(0x0c);
    uleb(depth, this.bytes);
    return this;
  }
  brIf(depth: number): this {
    this.bytes.push(0x0d);
    uleb(depth, this.bytes);
    return this;
  }
  localGet(i: number): this {
    this.bytes.push(0x20);
    uleb(i, this.bytes);
    return this;
  }
  localSet(i: number): this {
    this.bytes.push(0x21);
    uleb(i, this.bytes);
    return this;
  }
  localTee(i: number): this {
    this.bytes.push(0x22);
    uleb(i, this.bytes);
    return this;
  }
  i32Const(n: number): this {
    this.bytes.push(0x41);
    sleb(n, this.bytes);
    return this;
  }
  i32Load(offset = 0): this {
    return this.mem(0x28, 2, offset);
  }
  f64Load(offset = 0): this {
    return this.mem(0x2b, 3, offset);
  }
  f64Store(offset = 0): this {
    return this.mem(0x39, 3, offset);
  }
  i32Add(): this {
    this.bytes.push(0x6a);
    return this;
  }
  i32Sub(): this {
    this.bytes.push(0x6b);
    return this;
  }
  i32Mul(): this {
    this.bytes.push(0x6c);
    return this;
  }
  i32And(): this {
    this.bytes.push(0x71);
    return this;
  }
  i32Shl(): this {
    this.bytes.push(0x74);
    return this;
  }
  i32LtU(): this {
    this.bytes.push(0x49);
    return this;
  }
  i32Eqz(): this {
    this.bytes.push(0x45);
    return this;
  }
  i32GeU(): this {
    this.bytes.push(0x4f);
    return this;
  }
  f64Add(): this {
    this.bytes.push(0xa0);
    return this;
  }
  /** v128.load with a 16-byte alignment hint (the kernel keeps every vector 16-byte aligned). */
  v128Load(offset = 0): this {
    return this.mem(0x00, 4, offset, true);
  }
  v128Const0(): this {
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.bytes.push(0);
    return this;
  }
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  f64x2ExtractLane(lane: 0 | 1): this {
    this.simd(0x21);
    this.bytes.push(lane);
    return this;
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
}

export interface FuncDef {
  name: string;
  params: ValType[];
  results: ValType[];
  locals: ValType[];
  code: Code;
}

const section = (id: number, body: number[], out: number[]): void => {
  out.push(id);
  uleb(body.length, out);
  for (const b of body) out.push(b);
};

/** Bytes of a module with one memory (`memoryPages` initial 64 KiB pages, exported as "memory") and `funcs`, all exported. */
export function assembleModule(memoryPages: number, funcs: readonly FuncDef[]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const f of funcs) {
    types.push(0x60);
    uleb(f.params.length, types);
    types.push(...f.params);
    uleb(f.results.length, types);
    types.push(...f.results);
  }
  section(1, types, out);
  const fnsec: number[] = [];
  uleb(funcs.length, fnsec);
  funcs.forEach((_, i) => uleb(i, fnsec));
  section(3, fnsec, out);
  const memsec: number[] = [1, 0x00];
  uleb(memoryPages, memsec);
  section(5, memsec, out);
  const exp: number[] = [];
  uleb(funcs.length + 1, exp);
  utf8('memory', exp);
  exp.push(0x02, 0);
  funcs.forEach((f, i) => {
    utf8(f.name, exp);
    exp.push(0x00);
    uleb(i, exp);
  });
  section(7, exp, out);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const f of funcs) {
    const body: number[] = [];
    uleb(f.locals.length, body);
    for (const t of f.locals) body.push(1, t);
    body.push(...f.code.bytes, 0x0b);
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}
