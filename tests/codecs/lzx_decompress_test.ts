/**
 * Tests for the LZX decompressor and the shared LZX tables and E8 translation.
 *
 * wimlib (through FFI) is the oracle for real chunks. wimlib never writes uncompressed blocks and
 * chooses its own block layout, so a small test-only LZX writer below builds streams with exactly
 * the blocks, items and edge cases a test needs; wimlib decodes those streams too, which checks
 * the writer.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { CodecError } from "../../lib/errors.ts";
import { buildCodeLengths, buildCodewords } from "../../lib/codecs/huffman.ts";
import {
  LZX_E8_TRANSLATION_SIZE,
  LZX_EXTRA_BITS,
  LZX_POSITION_BASES,
  lzxE8Do,
  lzxE8Undo,
  lzxMainSymbolCount,
  lzxPositionSlot,
  lzxPositionSlotCount,
  lzxWindowOrder,
} from "../../lib/codecs/lzx_common.ts";
import { LzxDecompressor } from "../../lib/codecs/lzx_decompress.ts";
import { hasLibwim, libwimCompress, libwimDecompress } from "../support/libwim.ts";
import { assertSameBytes, pseudoRandom, repetitive } from "../support/codec_data.ts";

const noLibwim = !hasLibwim();

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.replace(/\s+/g, "").match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function decode(src: Uint8Array, usize: number, chunkSize = 32768): Uint8Array {
  const dst = new Uint8Array(usize);
  new LzxDecompressor(chunkSize).decompress(src, dst);
  return dst;
}

// --- Test data -----------------------------------------------------------------------------

const encoder = new TextEncoder();

function repeatToLength(unit: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = unit[i % unit.length]!;
  return out;
}

function textData(length: number): Uint8Array {
  const words = ["wim", "image", "chunk", "resource", "the", "of", "LZX", "window", "block", "\n"];
  const random = pseudoRandom(length, 7);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const word = words[random[i % length]! % words.length]!;
    parts.push(word, " ");
    size += word.length + 1;
  }
  return encoder.encode(parts.join("")).subarray(0, length);
}

const fileCache = new Map<string, Uint8Array | null>();

function readCached(path: string): Uint8Array | null {
  if (!fileCache.has(path)) {
    try {
      fileCache.set(path, Deno.readFileSync(path));
    } catch {
      fileCache.set(path, null);
    }
  }
  return fileCache.get(path)!;
}

/** Real x86-64 code: the largest ELF files in /usr/bin and /usr/lib that can be read. */
function binaryData(length: number, skip = 0): Uint8Array {
  const candidates = [
    "/usr/bin/gdb",
    "/usr/bin/ctest",
    "/usr/bin/cpack",
    "/usr/lib/x86_64-linux-gnu/libwim.so.15",
    "/usr/bin/bash",
    "/usr/bin/ls",
  ];
  const out = new Uint8Array(length);
  let filled = 0;
  for (const path of candidates) {
    const bytes = readCached(path);
    if (!bytes) continue;
    // Skip the ELF header region to land in .text.
    const start = Math.min(bytes.length, 65536 + skip);
    const piece = bytes.subarray(start, start + (length - filled));
    out.set(piece, filled);
    filled += piece.length;
    if (filled === length) return out;
  }
  out.set(repetitive(length - filled), filled);
  return out;
}

function countE8(data: Uint8Array): number {
  let count = 0;
  for (const byte of data) if (byte === 0xe8) count++;
  return count;
}

// --- A test-only LZX writer ----------------------------------------------------------------

class BitWriter {
  readonly bytes: number[] = [];
  #word = 0;
  #count = 0;

  write(value: number, count: number): void {
    for (let bit = count - 1; bit >= 0; bit--) {
      this.#word = (this.#word << 1) | ((value >>> bit) & 1);
      if (++this.#count === 16) this.#flush();
    }
  }

  /** §3.7: go to the next word boundary, skipping a whole word when already on one. */
  alignForUncompressed(): void {
    this.write(0, 16 - this.#count);
  }

  raw(data: Iterable<number>): void {
    assert.equal(this.#count, 0);
    for (const byte of data) this.bytes.push(byte);
  }

  finish(): Uint8Array {
    if (this.#count > 0) this.write(0, 16 - this.#count);
    return Uint8Array.from(this.bytes);
  }

  #flush(): void {
    this.bytes.push(this.#word & 0xff, this.#word >>> 8);
    this.#word = 0;
    this.#count = 0;
  }
}

type TestItem = number | { length: number; offset: number } | { length: number; rep: 0 | 1 | 2 };

type TestBlock =
  | {
    type: "verbatim" | "aligned";
    items: TestItem[];
    /** Seed for the code lengths (different seeds give different codes). */
    seed?: number;
  }
  | { type: "uncompressed"; data: Uint8Array; recent?: [number, number, number] };

interface TestCodes {
  lengths: Uint8Array;
  codewords: Uint32Array;
}

function makeCode(symbolCount: number, maxLength: number, seed: number): TestCodes {
  const freqs = new Uint32Array(symbolCount);
  const random = pseudoRandom(symbolCount, seed);
  for (let sym = 0; sym < symbolCount; sym++) freqs[sym] = seed === 0 ? 1 : 1 + random[sym]!;
  const lengths = new Uint8Array(symbolCount);
  buildCodeLengths(freqs, symbolCount, maxLength, lengths);
  const codewords = new Uint32Array(symbolCount);
  buildCodewords(lengths, symbolCount, maxLength, codewords);
  return { lengths, codewords };
}

const PRETREE = makeCode(17, 15, 0); // symbols 0..16 only: plain deltas, no runs

function writeSymbol(writer: BitWriter, code: TestCodes, sym: number): void {
  const length = code.lengths[sym]!;
  assert.ok(length > 0, `symbol ${sym} has no codeword`);
  writer.write(code.codewords[sym]!, length);
}

function writeLengths(writer: BitWriter, prev: Uint8Array, next: Uint8Array): void {
  for (let sym = 0; sym < 20; sym++) writer.write(PRETREE.lengths[sym] ?? 0, 4);
  for (let i = 0; i < next.length; i++) {
    writeSymbol(writer, PRETREE, (prev[i]! - next[i]! + 17) % 17);
  }
}

/**
 * Writes an LZX chunk; returns the stream and the expected decoded chunk (computed by replaying
 * the items, then undoing E8 translation).
 */
function writeLzx(
  blocks: TestBlock[],
  windowOrder = 15,
): { stream: Uint8Array; expected: Uint8Array } {
  const writer = new BitWriter();
  const nmain = lzxMainSymbolCount(windowOrder);
  const prevMain = new Uint8Array(nmain);
  const prevLength = new Uint8Array(249);
  const out: number[] = [];
  const recent = [1, 1, 1];
  for (const block of blocks) {
    const blockTypes = { verbatim: 1, aligned: 2, uncompressed: 3 };
    writer.write(blockTypes[block.type], 3);
    const size = block.type === "uncompressed" ? block.data.length : block.items.reduce<number>(
      (sum, item) => sum + (typeof item === "number" ? 1 : item.length),
      0,
    );
    if (size === 32768) {
      writer.write(1, 1);
    } else {
      writer.write(0, 1);
      writer.write(size, windowOrder === 15 ? 16 : 24);
    }
    if (block.type === "uncompressed") {
      writer.alignForUncompressed();
      if (block.recent) recent.splice(0, 3, ...block.recent);
      for (const r of recent) writer.raw([r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24]);
      writer.raw(block.data);
      if (block.data.length & 1) writer.raw([0]);
      out.push(...block.data);
      continue;
    }
    const seed = block.seed ?? 0;
    const aligned = makeCode(8, 7, seed);
    const main = makeCode(nmain, 16, seed);
    const length = makeCode(249, 16, seed);
    if (block.type === "aligned") {
      for (let sym = 0; sym < 8; sym++) writer.write(aligned.lengths[sym]!, 3);
    }
    writeLengths(writer, prevMain.subarray(0, 256), main.lengths.subarray(0, 256));
    writeLengths(writer, prevMain.subarray(256), main.lengths.subarray(256));
    writeLengths(writer, prevLength, length.lengths);
    prevMain.set(main.lengths);
    prevLength.set(length.lengths);
    for (const item of block.items) {
      if (typeof item === "number") {
        writeSymbol(writer, main, item);
        out.push(item);
        continue;
      }
      let slot: number;
      let offset: number;
      if ("rep" in item) {
        slot = item.rep;
        offset = recent[slot]!;
        recent[slot] = recent[0]!;
        recent[0] = offset;
      } else {
        offset = item.offset;
        slot = lzxPositionSlot(offset + 2);
        recent.splice(0, 3, offset, recent[0]!, recent[1]!);
      }
      const lengthHeader = Math.min(item.length - 2, 7);
      writeSymbol(writer, main, 256 + slot * 8 + lengthHeader);
      if (lengthHeader === 7) writeSymbol(writer, length, item.length - 9);
      if (slot >= 3) {
        const extra = LZX_EXTRA_BITS[slot]!;
        const value = offset + 2 - LZX_POSITION_BASES[slot]!;
        if (block.type === "aligned" && extra >= 3) {
          writer.write(value >>> 3, extra - 3);
          writeSymbol(writer, aligned, value & 7);
        } else {
          writer.write(value, extra);
        }
      }
      for (let k = 0; k < item.length; k++) out.push(out[out.length - offset]!);
    }
  }
  const expected = Uint8Array.from(out);
  lzxE8Undo(expected);
  return { stream: writer.finish(), expected };
}

/** Items for `data`: greedy matches found by a tiny hash-free search (enough for tests). */
function greedyItems(data: Uint8Array, maxOffset = 4096): TestItem[] {
  const items: TestItem[] = [];
  let i = 0;
  while (i < data.length) {
    let bestLength = 0;
    let bestOffset = 0;
    for (let offset = 1; offset <= Math.min(i, maxOffset); offset++) {
      let length = 0;
      while (
        length < 257 && i + length < data.length && data[i + length] === data[i + length - offset]
      ) {
        length++;
      }
      if (length > bestLength) {
        bestLength = length;
        bestOffset = offset;
      }
    }
    if (bestLength >= 3) {
      items.push({ length: bestLength, offset: bestOffset });
      i += bestLength;
    } else {
      items.push(data[i++]!);
    }
  }
  return items;
}

// --- lzx_common ----------------------------------------------------------------------------

Deno.test("lzxPositionSlotCount() matches the window table of §3.2", () => {
  const expected = [30, 32, 34, 36, 38, 42, 50];
  for (let order = 15; order <= 21; order++) {
    assert.equal(lzxPositionSlotCount(order), expected[order - 15]);
    assert.equal(lzxMainSymbolCount(order), 256 + 8 * expected[order - 15]!);
  }
});

Deno.test("LZX_POSITION_BASES and LZX_EXTRA_BITS match §3.2", () => {
  assert.deepEqual([...LZX_POSITION_BASES.subarray(0, 12)], [
    0,
    1,
    2,
    3,
    4,
    6,
    8,
    12,
    16,
    24,
    32,
    48,
  ]);
  assert.deepEqual([...LZX_EXTRA_BITS.subarray(0, 12)], [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.equal(LZX_POSITION_BASES[28], 16384);
  assert.equal(LZX_POSITION_BASES[35], 196608);
  assert.equal(LZX_EXTRA_BITS[35], 16);
  for (let slot = 36; slot < 50; slot++) {
    assert.equal(LZX_POSITION_BASES[slot], 262144 + 131072 * (slot - 36));
    assert.equal(LZX_EXTRA_BITS[slot], 17);
  }
});

Deno.test("lzxPositionSlot() inverts the position bases for every offset", () => {
  for (let formatted = 3; formatted < 2 ** 21; formatted++) {
    const slot = lzxPositionSlot(formatted);
    if (formatted < LZX_POSITION_BASES[slot]! || formatted >= LZX_POSITION_BASES[slot + 1]!) {
      assert.fail(`formatted offset ${formatted} got slot ${slot}`);
    }
  }
});

Deno.test("lzxWindowOrder() accepts powers of two from 32 KiB to 2 MiB only", () => {
  assert.equal(lzxWindowOrder(32768), 15);
  assert.equal(lzxWindowOrder(2 ** 21), 21);
  for (const bad of [0, 16384, 40000, 2 ** 22, 32768.5, NaN]) {
    assert.throws(() => lzxWindowOrder(bad), RangeError);
  }
});

// --- E8 translation (§3.8) -----------------------------------------------------------------

function e8Reference(data: Uint8Array, undo: boolean): Uint8Array {
  const d = data.slice();
  const view = new DataView(d.buffer);
  const T = LZX_E8_TRANSLATION_SIZE;
  for (let i = 0; i < d.length - 10;) {
    if (d[i] !== 0xe8) {
      i++;
      continue;
    }
    const v = view.getInt32(i + 1, true);
    if (undo) {
      if (v >= 0 && v < T) view.setInt32(i + 1, v - i, true);
      else if (v < 0 && v >= -i) view.setInt32(i + 1, v + T, true);
    } else if (v >= -i && v < T) {
      view.setInt32(i + 1, v < T - i ? v + i : v - T, true);
    }
    i += 5;
  }
  return d;
}

function call(position: number, operand: number, length = 32): Uint8Array {
  const d = new Uint8Array(length).fill(0x90);
  d[position] = 0xe8;
  new DataView(d.buffer).setInt32(position + 1, operand, true);
  return d;
}

Deno.test("lzxE8Undo() handles operands at the range limits", () => {
  const T = LZX_E8_TRANSLATION_SIZE;
  const p = 7;
  const cases: Array<[number, number]> = [
    [0, -p], // absolute 0 -> relative -p
    [T - 1, T - 1 - p], // largest translated value
    [T, T], // out of range: unchanged
    [-1, T - 1], // compensating case
    [-p, T - p], // smallest compensating value
    [-p - 1, -p - 1], // below -position: unchanged
    [0x7fffffff, 0x7fffffff],
    [-0x80000000, -0x80000000],
  ];
  for (const [stored, relative] of cases) {
    const d = call(p, stored);
    lzxE8Undo(d);
    assert.equal(new DataView(d.buffer).getInt32(p + 1, true), relative, `stored ${stored}`);
  }
});

Deno.test("lzxE8Undo() leaves E8 bytes in the last 10 bytes and short chunks alone", () => {
  for (const length of [1, 5, 10, 11, 15, 16]) {
    for (let p = 0; p < length; p++) {
      const d = new Uint8Array(length);
      d[p] = 0xe8;
      const before = d.slice();
      lzxE8Undo(d);
      if (p >= length - 10) assert.deepEqual(d, before, `length ${length}, E8 at ${p}`);
      else assert.deepEqual(d, e8Reference(before, true), `length ${length}, E8 at ${p}`);
    }
  }
  // An E8 at n - 11 is processed even though its operand reaches into the last 10 bytes.
  const d = call(21, 0x10);
  lzxE8Undo(d);
  assert.equal(new DataView(d.buffer).getInt32(22, true), 0x10 - 21);
});

Deno.test("lzxE8Undo() never treats operand bytes as opcodes", () => {
  // E8 E8 E8 E8 E8 ...: the first E8's operand holds four E8 bytes, the next opcode is at 5.
  const d = new Uint8Array(40).fill(0xe8);
  lzxE8Undo(d);
  assert.deepEqual(d, e8Reference(new Uint8Array(40).fill(0xe8), true));
  assert.equal(d[0], 0xe8);
});

Deno.test("lzxE8Do() and lzxE8Undo() match a byte-at-a-time reference and invert each other", () => {
  const T = LZX_E8_TRANSLATION_SIZE;
  const operand = fc.oneof(
    fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    fc.integer({ min: -64, max: 64 }),
    fc.integer({ min: T - 64, max: T + 64 }),
  );
  const chunk = fc.array(
    fc.oneof(
      fc.tuple(fc.constant(0xe8), operand),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.constant(null)),
    ),
    { maxLength: 60 },
  ).map((parts) => {
    const bytes: number[] = [];
    for (const [byte, value] of parts) {
      bytes.push(byte);
      if (value !== null) {
        bytes.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24 & 0xff);
      }
    }
    return Uint8Array.from(bytes);
  });
  fc.assert(
    fc.property(chunk, (data) => {
      const done = data.slice();
      lzxE8Do(done);
      assert.deepEqual(done, e8Reference(data, false));
      const undone = data.slice();
      lzxE8Undo(undone);
      assert.deepEqual(undone, e8Reference(data, true));
      lzxE8Undo(done);
      assert.deepEqual(done, data);
    }),
    { numRuns: 500 },
  );
});

// --- §6 test vectors -----------------------------------------------------------------------

const VECTORS: Array<{ name: string; input: () => Uint8Array; sha256: string; lzx: string }> = [
  {
    name: "abc100",
    input: () => repeatToLength(encoder.encode("abc"), 100),
    sha256: "46a5cb8db0c3ce85b6f5922152695bfcb8023148999ba8db089d7ee421f28d68",
    lzx: "062000420000000000000120da07f7fda8df00000000000004004300ff37d8ff" +
      "00000000000001008410f3f9bfefc7a00080",
  },
  {
    name: "zeros32k",
    input: () => new Uint8Array(32768),
    sha256: "c35020473aed1b4642cd726cad727b63fff2824ad68cedd7ffb73c7cbd890479",
    lzx: "00300000000000000101ff07ffff00e00000000000004204cf19fbbe00e40000" +
      "0000000011003e0893ff8fefff37ffffffffffffffffffffffffffffffffffff" +
      "ffffffffffffffffffffffff00c0",
  },
  {
    name: "random100",
    input: () => {
      const parts = [0, 1, 2, 3].map((k) =>
        createHash("sha256").update(`wim-codec-vector-${k}`).digest()
      );
      const all = new Uint8Array(128);
      parts.forEach((part, k) => all.set(part, 32 * k));
      return all.subarray(0, 100);
    },
    sha256: "db470c9b11e6037ef5597972deaef28ba000205ba5dc39d0caaf4b8af15e60fb",
    lzx: "062000410000020000354000825bb8a51ab5bdb85c711cb729b8a410182e5242" +
      "868b08d17189e25a108b5bdc6770dcd86e783d0c9bc13687631bd818b7618c0f" +
      "70db00880000000000000800ff7fe0ff00200000000000002100ffffcfff6f13" +
      "5d36c1f22be5bc1bef135bb7f3b9d36cd9964646bf53c1e04c1efa7bf135b845" +
      "030ed0896b29a47a038817b4fd26755e614d0f02ede6380329f74c17e14fc110" +
      "5f0c0f75be67d923d546eb500044",
  },
  {
    name: "fox",
    input: () => encoder.encode("The quick brown fox jumps over the lazy dog. ".repeat(3)),
    sha256: "dc985401a68faff03051c78bbf32bb2fd27ba216b0dba19b050b936d534b8ba9",
    lzx: "0820007000000000443232009f353166642c80269a76df0f00ab000000002000" +
      "02007c1019abdef700000000000000001022229ff77d32fb234e7a55e4c1ef8a" +
      "961fea024ce88f154d217b8b47d68ec4b98100f0",
  },
  {
    name: "calls128",
    input: () => {
      const d = new Uint8Array(128);
      const view = new DataView(d.buffer);
      for (let k = 0; k < 16; k++) {
        d[8 * k] = 0xe8;
        view.setInt32(8 * k + 1, 0x1000 - 8 * k, true);
        d.fill(0x90, 8 * k + 5, 8 * k + 8);
      }
      return d;
    },
    sha256: "90be33084f992117530aeda06eb053239134113b3c9800b5f90529cf98d17fc1",
    lzx: "082000000000000023002230d00ebe5f9fe843bf20430000000003000030ab10" +
      "df3ff27d00c00000000000000404fe1ffdffa0e1bbacc0b3",
  },
];

for (const vector of VECTORS) {
  Deno.test(`LzxDecompressor.decompress() decodes the §6 vector ${vector.name}`, () => {
    const input = vector.input();
    assert.equal(sha256Hex(input), vector.sha256);
    assertSameBytes(decode(fromHex(vector.lzx), input.length), input, vector.name);
  });
}

Deno.test("LzxDecompressor.decompress() keeps the call in the last 10 bytes of calls128 relative", () => {
  const out = decode(fromHex(VECTORS[4]!.lzx), 128);
  // Position 120: operand 0x1000 - 120 = 0xf88, stored relative ("88 0f 00 00").
  assert.deepEqual([...out.subarray(120, 125)], [0xe8, 0x88, 0x0f, 0, 0]);
});

// --- Chunks from wimlib ---------------------------------------------------------------------

const DATA_KINDS: Array<[string, (length: number) => Uint8Array]> = [
  ["repetitive", repetitive],
  ["text", textData],
  ["x86 binary", (length) => binaryData(length)],
  ["x86 binary (later)", (length) => binaryData(length, 3 << 20)],
];

for (const chunkSize of [32768, 65536, 1 << 20]) {
  Deno.test({
    name: `LzxDecompressor.decompress() decodes wimlib chunks with a ${chunkSize >> 10} KiB window`,
    ignore: noLibwim,
    fn() {
      const decompressor = new LzxDecompressor(chunkSize);
      for (const level of [20, 50, 100]) {
        for (const [kind, make] of DATA_KINDS) {
          const data = make(chunkSize);
          const compressed = libwimCompress("lzx", data, { maxBlockSize: chunkSize, level });
          assert.ok(compressed, `${kind} at level ${level} should compress`);
          const dst = new Uint8Array(chunkSize);
          decompressor.decompress(compressed, dst);
          assertSameBytes(dst, data, `${kind}, level ${level}`);
        }
      }
    },
  });
}

Deno.test({
  name: "LzxDecompressor.decompress() handles E8-heavy binaries at every level",
  ignore: noLibwim,
  fn() {
    const decompressor = new LzxDecompressor(32768);
    const dst = new Uint8Array(32768);
    let calls = 0;
    for (let k = 0; k < 24; k++) {
      const data = binaryData(32768, k * 98304);
      calls += countE8(data);
      const compressed = libwimCompress("lzx", data, {
        maxBlockSize: 32768,
        level: [20, 50, 100][k % 3]!,
      });
      if (!compressed) continue;
      decompressor.decompress(compressed, dst);
      assertSameBytes(dst, data, `binary slice ${k}`);
    }
    assert.ok(calls > 1000, `expected E8-heavy data, saw ${calls} E8 bytes`);
  },
});

Deno.test({
  name: "LzxDecompressor.decompress() handles aligned and verbatim blocks from wimlib",
  ignore: noLibwim,
  fn() {
    // The first block's type is the top 3 bits of the first word (its second byte).
    const seen = new Set<number>();
    const decompressor = new LzxDecompressor(32768);
    const dst = new Uint8Array(32768);
    for (let k = 0; k < 40 && seen.size < 2; k++) {
      const data = k % 2 ? binaryData(32768, k * 65536) : textData(32768 - k);
      const compressed = libwimCompress("lzx", data, { maxBlockSize: 32768, level: 100 });
      if (!compressed) continue;
      seen.add(compressed[1]! >>> 5);
      const out = dst.subarray(0, data.length);
      decompressor.decompress(compressed, out);
      assertSameBytes(out, data, `chunk ${k}`);
    }
    assert.deepEqual([...seen].sort(), [1, 2], "wimlib should have produced both block types");
  },
});

Deno.test({
  name: "LzxDecompressor.decompress() decodes short last chunks with the resource's window",
  ignore: noLibwim,
  fn() {
    const cases: Array<[number, number]> = [
      [32768, 64],
      [32768, 100],
      [32768, 1000],
      [32768, 32767],
      [65536, 100],
      [65536, 32769],
      [65536, 65535],
      [1 << 20, 32769],
      [1 << 20, 500000],
    ];
    for (const [chunkSize, usize] of cases) {
      for (const [kind, make] of DATA_KINDS) {
        const data = make(usize);
        const compressed = libwimCompress("lzx", data, { maxBlockSize: chunkSize });
        if (!compressed) continue; // stored raw by a WIM writer
        const dst = new Uint8Array(usize);
        new LzxDecompressor(chunkSize).decompress(compressed, dst);
        assertSameBytes(dst, data, `${kind}, ${usize} of ${chunkSize}`);
      }
    }
  },
});

Deno.test({
  name: "libwimCompress() stores incompressible and 1-byte chunks raw (the caller's path)",
  ignore: noLibwim,
  fn() {
    assert.equal(libwimCompress("lzx", pseudoRandom(32768, 3), { maxBlockSize: 32768 }), null);
    assert.equal(libwimCompress("lzx", Uint8Array.of(0x41), { maxBlockSize: 32768 }), null);
  },
});

Deno.test({
  name: "LzxDecompressor.decompress() reuses one object for chunks of different sizes",
  ignore: noLibwim,
  fn() {
    const decompressor = new LzxDecompressor(65536);
    const inputs = [binaryData(65536), textData(65536), repetitive(100), binaryData(40000, 12345)];
    const compressed = inputs.map((data) => libwimCompress("lzx", data, { maxBlockSize: 65536 })!);
    for (let round = 0; round < 2; round++) {
      inputs.forEach((data, k) => {
        const dst = new Uint8Array(data.length).fill(0xaa);
        decompressor.decompress(compressed[k]!, dst);
        assertSameBytes(dst, data, `input ${k}, round ${round}`);
      });
    }
  },
});

// --- Hand-built streams ---------------------------------------------------------------------

/** Checks a hand-built stream with our decoder and, when available, with wimlib. */
function checkStream(
  written: { stream: Uint8Array; expected: Uint8Array },
  chunkSize = 32768,
  askLibwim = true,
): void {
  const { stream, expected } = written;
  assertSameBytes(decode(stream, expected.length, chunkSize), expected, "wimkit");
  if (askLibwim && !noLibwim) {
    const theirs = libwimDecompress("lzx", stream, expected.length, chunkSize);
    assert.ok(theirs, "wimlib rejected the hand-built stream");
    assertSameBytes(theirs, expected, "wimlib");
  }
}

Deno.test("LzxDecompressor.decompress() handles aligned blocks", () => {
  const data = textData(5000);
  checkStream(writeLzx([{ type: "aligned", items: greedyItems(data) }]));
  // Offsets with 3+ extra bits use the aligned code; long offsets span many slots.
  const items: TestItem[] = [...pseudoRandom(3000, 5)];
  for (const offset of [1, 2, 3, 7, 8, 21, 22, 100, 1000, 2047, 2999]) {
    items.push({ length: 5, offset }, { length: 200, offset }, { length: 2, rep: 0 });
  }
  checkStream(writeLzx([{ type: "aligned", items, seed: 9 }]));
});

Deno.test("LzxDecompressor.decompress() handles verbatim blocks and repeat offsets", () => {
  const items: TestItem[] = [...encoder.encode("abcdefghijklmnopqrstuvwxyz0123456789")];
  items.push(
    { length: 4, offset: 26 },
    { length: 9, offset: 3 },
    { length: 10, offset: 17 },
    { length: 3, rep: 1 }, // R1 = 3 -> swapped with R0
    { length: 3, rep: 2 }, // R2 = 26, R1 untouched
    { length: 257, rep: 0 },
    { length: 2, rep: 1 },
  );
  checkStream(writeLzx([{ type: "verbatim", items, seed: 3 }]));
});

Deno.test("LzxDecompressor.decompress() carries code lengths across blocks as deltas", () => {
  const data = textData(20000);
  const items = greedyItems(data);
  const blocks: TestBlock[] = [];
  for (let k = 0; k < 5; k++) {
    blocks.push({
      type: k % 2 ? "aligned" : "verbatim",
      items: items.slice((k * items.length) / 5, ((k + 1) * items.length) / 5),
      seed: k * 7 + 1,
    });
  }
  checkStream(writeLzx(blocks));
});

Deno.test("LzxDecompressor.decompress() handles uncompressed blocks at every bit position", () => {
  // Literals before the block leave the writer at every possible bit offset within a word.
  for (let literals = 0; literals < 20; literals++) {
    const head: TestItem[] = [...pseudoRandom(literals + 1, literals + 2)];
    const body = pseudoRandom(101 + literals, literals + 3);
    const tail: TestItem[] = [{ length: 5, rep: 0 }, { length: 7, rep: 2 }, 0x41, {
      length: 3,
      offset: 50,
    }];
    checkStream(writeLzx([
      { type: "verbatim", items: head, seed: literals },
      { type: "uncompressed", data: body, recent: [3, 40, 100] },
      { type: "aligned", items: tail, seed: literals + 1 },
    ]));
  }
});

Deno.test("LzxDecompressor.decompress() handles a chunk that starts with an uncompressed block", () => {
  const data = binaryData(1000);
  checkStream(writeLzx([{ type: "uncompressed", data }]));
  checkStream(
    writeLzx([{ type: "uncompressed", data: data.subarray(0, 999) }, {
      type: "uncompressed",
      data: data.subarray(0, 1),
    }]),
  );
  // E8 translation also covers uncompressed blocks.
  const calls = new Uint8Array(64).fill(0x90);
  calls.set(call(3, 0x200, 8), 0);
  const written = writeLzx([{ type: "uncompressed", data: calls }]);
  assert.equal(new DataView(written.expected.buffer).getInt32(4, true), 0x200 - 3);
  checkStream(written);
});

Deno.test("LzxDecompressor.decompress() reads a flag-sized uncompressed block positionally", () => {
  // §3.7: after another block in a 64 KiB chunk; wimlib's reader may skip a word here, so it is
  // not asked.
  for (let literals = 1; literals < 8; literals++) {
    const head: TestItem[] = [...pseudoRandom(literals, literals)];
    const body = pseudoRandom(32768, 99);
    checkStream(
      writeLzx([{ type: "verbatim", items: head }, { type: "uncompressed", data: body }, {
        type: "verbatim",
        items: [{ length: 100, offset: 32768 }],
      }], 16),
      65536,
      false,
    );
  }
});

Deno.test("LzxDecompressor.decompress() reads 24-bit block sizes and many blocks", () => {
  const data = repetitive(200000);
  const items = greedyItems(data, 300);
  const blocks: TestBlock[] = [];
  for (let k = 0; k < 4; k++) {
    blocks.push({
      type: k & 1 ? "aligned" : "verbatim",
      items: items.slice((k * items.length) >> 2, ((k + 1) * items.length) >> 2),
      seed: k + 1,
    });
  }
  checkStream(writeLzx(blocks, 20), 1 << 20);
});

Deno.test("LzxDecompressor.decompress() uses the full window in 2 MiB chunks", () => {
  const head = pseudoRandom(2 ** 21 - 3000, 11);
  const items: TestItem[] = [...head];
  items.push({ length: 257, offset: 2 ** 21 - 3000 }, { length: 100, offset: 2 ** 20 + 12345 }, {
    length: 9,
    rep: 1,
  });
  const blocks: TestBlock[] = [{ type: "aligned", items: items.slice(0, 2 ** 20) }, {
    type: "verbatim",
    items: items.slice(2 ** 20),
  }];
  const written = writeLzx(blocks, 21);
  checkStream(written, 2 ** 21);
});

// --- Bad input ------------------------------------------------------------------------------

function assertCodecError(
  src: Uint8Array,
  usize: number,
  pattern: RegExp,
  chunkSize = 32768,
): void {
  assert.throws(() => decode(src, usize, chunkSize), (error: unknown) => {
    assert.ok(error instanceof CodecError, `expected CodecError, got ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("new LzxDecompressor() rejects chunk sizes that are not a power of two in range", () => {
  for (const bad of [16384, 40000, 2 ** 22, 0, -32768]) {
    assert.throws(() => new LzxDecompressor(bad), RangeError);
  }
  assert.throws(
    () => new LzxDecompressor(32768).decompress(new Uint8Array(4), new Uint8Array(32769)),
    RangeError,
  );
});

Deno.test("LzxDecompressor.decompress() does nothing for an empty chunk", () => {
  new LzxDecompressor().decompress(new Uint8Array(0), new Uint8Array(0));
});

Deno.test("LzxDecompressor.decompress() rejects invalid block headers", () => {
  // Block type 0 and 4..7.
  for (const type of [0, 4, 5, 6, 7]) {
    const writer = new BitWriter();
    writer.write(type, 3);
    writer.write(1, 1);
    assertCodecError(writer.finish(), 32768, /block type/);
  }
  // Explicit size 0, and a size overrunning usize.
  for (const size of [0, 101]) {
    const writer = new BitWriter();
    writer.write(1, 3);
    writer.write(0, 1);
    writer.write(size, 16);
    assertCodecError(writer.finish(), 100, /block size/);
  }
});

Deno.test("LzxDecompressor.decompress() rejects matches before the chunk start or past the block", () => {
  const early = writeLzx([{ type: "verbatim", items: [0x41, { length: 3, offset: 2 }] }]);
  assertCodecError(early.stream, 4, /offset/);
  const repeat = writeLzx([{ type: "verbatim", items: [{ length: 3, rep: 0 }] }]);
  assertCodecError(repeat.stream, 3, /offset/);
  // The writer sizes blocks from their items; shrink the first block's size field by patching.
  const crossing = writeLzx([{ type: "verbatim", items: [0x41, 0x42, { length: 10, offset: 1 }] }, {
    type: "verbatim",
    items: [0x43],
  }]);
  // Block 1 header: type 001, flag 0, size 12 -> patch size to 5 (the match then crosses it).
  const stream = crossing.stream.slice();
  const word = (stream[0]! | (stream[1]! << 8)) >>> 0;
  // bits: ttt f ssssssssssss|ssss -> size occupies the low 12 bits of word 0 and 4 bits of word 1.
  assert.equal((word >>> 12) & 1, 0);
  const size = ((word & 0xfff) << 4) | (stream[3]! >>> 4);
  assert.equal(size, 12);
  stream[0] = (word & 0xf000 | (5 >>> 4)) & 0xff;
  stream[1] = (word & 0xf000) >>> 8;
  stream[3] = (stream[3]! & 0x0f) | ((5 & 15) << 4);
  assertCodecError(stream, 13, /crosses the block end|block size|offset/);
});

Deno.test("LzxDecompressor.decompress() rejects bad uncompressed blocks", () => {
  const good = writeLzx([{ type: "uncompressed", data: pseudoRandom(50, 1) }]).stream;
  assertCodecError(good.subarray(0, good.length - 2), 50, /overruns/);
  const zero =
    writeLzx([{ type: "uncompressed", data: pseudoRandom(50, 1), recent: [1, 0, 1] }]).stream;
  assertCodecError(zero, 50, /recent offset 0/);
});

Deno.test("LzxDecompressor.decompress() rejects incomplete and over-full codes", () => {
  // An aligned block whose aligned code has one symbol of length 1 (incomplete).
  const writer = new BitWriter();
  writer.write(2, 3);
  writer.write(0, 1);
  writer.write(10, 16);
  writer.write(1, 3);
  for (let sym = 1; sym < 8; sym++) writer.write(0, 3);
  assertCodecError(writer.finish(), 10, /aligned-offset code/);
  // A pretree with three codewords of length 1 (over-full).
  const over = new BitWriter();
  over.write(1, 3);
  over.write(0, 1);
  over.write(10, 16);
  for (let sym = 0; sym < 20; sym++) over.write(sym < 3 ? 1 : 0, 4);
  assertCodecError(over.finish(), 10, /pretree code/);
});

function fuzzTarget(chunkSize: number) {
  const decompressor = new LzxDecompressor(chunkSize);
  return (src: Uint8Array, usize: number): void => {
    const dst = new Uint8Array(usize);
    try {
      decompressor.decompress(src, dst);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
  };
}

Deno.test("LzxDecompressor.decompress() gives CodecError or a full chunk for random bytes", () => {
  for (const chunkSize of [32768, 1 << 20]) {
    const target = fuzzTarget(chunkSize);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 1, max: chunkSize }),
        (src, usize) => target(src, usize),
      ),
      { numRuns: 300 },
    );
  }
});

Deno.test({
  name: "LzxDecompressor.decompress() gives CodecError or a full chunk for corrupted chunks",
  ignore: noLibwim,
  fn() {
    const sources = [binaryData(32768), textData(32768), repetitive(32768)].map((data) =>
      libwimCompress("lzx", data, { maxBlockSize: 32768 })!
    );
    sources.push(
      writeLzx([{ type: "verbatim", items: [0x41] }, {
        type: "uncompressed",
        data: pseudoRandom(300, 2),
      }, { type: "aligned", items: greedyItems(textData(3000)) }]).stream,
    );
    const target = fuzzTarget(32768);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.oneof(fc.constant(32768), fc.integer({ min: 1, max: 32768 })),
        fc.nat(),
        (which, flips, usize, cut) => {
          const src = sources[which]!.slice();
          for (const [at, value] of flips) src[at % src.length] = value;
          target(src, usize);
          target(src.subarray(0, cut % (src.length + 1)), usize);
        },
      ),
      { numRuns: 400 },
    );
  },
});

Deno.test({
  name: "LzxDecompressor.decompress() writes only inside a dst that is a subarray",
  ignore: noLibwim,
  fn() {
    const decompressor = new LzxDecompressor(32768);
    for (const [usize, byteOffset] of [[32768, 3], [5000, 1], [32768, 0], [777, 4097]] as const) {
      const data = binaryData(usize, usize * 7);
      const compressed = libwimCompress("lzx", data, { maxBlockSize: 32768 })!;
      const whole = new Uint8Array(usize + byteOffset + 64).fill(0x5a);
      decompressor.decompress(compressed, whole.subarray(byteOffset, byteOffset + usize));
      assertSameBytes(whole.subarray(byteOffset, byteOffset + usize), data, `offset ${byteOffset}`);
      assert.ok(whole.subarray(0, byteOffset).every((byte) => byte === 0x5a), "bytes before dst");
      assert.ok(
        whole.subarray(byteOffset + usize).every((byte) => byte === 0x5a),
        "bytes after dst",
      );
    }
  },
});
