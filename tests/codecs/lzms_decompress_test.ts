import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { CodecError } from "../../lib/errors.ts";
import {
  buildLzmsCodeLengths,
  LZMS_LENGTH_SLOT_BASE,
  LZMS_MAX_NUM_OFFSET_SYMS,
  LZMS_OFFSET_SLOT_BASE,
  LZMS_X86_TARGET_TABLE_SIZE,
  LzmsCodeScratch,
  lzmsOffsetSlotCount,
  lzmsX86Filter,
} from "../../lib/codecs/lzms_common.ts";
import { LzmsDecompressor } from "../../lib/codecs/lzms_decompress.ts";
import { buildCodeLengths } from "../../lib/codecs/huffman.ts";
import { hasLibwim, libwimCompress, libwimDecompress } from "../support/libwim.ts";

const LIBWIM = hasLibwim();

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!.map((pair) => parseInt(pair, 16)));
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function decode(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  new LzmsDecompressor().decompress(src, out);
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

function calls128(): Uint8Array {
  const out = new Uint8Array(128);
  const view = new DataView(out.buffer);
  for (let k = 0; k < 16; k++) {
    const p = 8 * k;
    out[p] = 0xe8;
    view.setInt32(p + 1, 0x1000 - p, true);
    out.fill(0x90, p + 5, p + 8);
  }
  return out;
}

// ---- §6 test vectors ----

Deno.test("LzmsDecompressor.decompress() decodes the abc100 vector (repeat from the initial queue)", () => {
  const out = decode(hex("ee64d0ff00000080f1636261"), 100);
  assert.equal(sha256(out), "46a5cb8db0c3ce85b6f5922152695bfcb8023148999ba8db089d7ee421f28d68");
});

Deno.test("LzmsDecompressor.decompress() decodes the zeros32k vector", () => {
  const out = decode(hex("ff6bd0ff000098ba43e40000"), 32768);
  assert.equal(sha256(out), "c35020473aed1b4642cd726cad727b63fff2824ad68cedd7ffb73c7cbd890479");
});

Deno.test("LzmsDecompressor.decompress() decodes the random100 vector (literals only)", () => {
  const src = hex(
    "0000000000000000aa51e0fa09aacba7397707114d8fe3c4c40af331daf3acc0" +
      "e865d9d40af8d868a716a9c9a1b7f60592ed131f5bc4dd16f97f00ecf34a6fa2" +
      "1f1162bbaf88d16e613b40e427dd96d887e49a8712414b574346177073866f7a" +
      "5f06ab7d1f932093d318a164",
  );
  const out = decode(src, 100);
  assert.equal(sha256(out), "db470c9b11e6037ef5597972deaef28ba000205ba5dc39d0caaf4b8af15e60fb");
  const expected = new Uint8Array(128);
  for (let k = 0; k < 4; k++) {
    expected.set(createHash("sha256").update(`wim-codec-vector-${k}`).digest(), 32 * k);
  }
  assert.deepEqual(out, expected.subarray(0, 100));
});

Deno.test("LzmsDecompressor.decompress() decodes the fox vector", () => {
  const src = hex(
    "040093f8751500000078c7a60271397b2303c9d30b63b3bc74207265766f2073" +
      "706d756a20786f66206e776f7262206b6369757120656854",
  );
  const out = decode(src, 135);
  assert.equal(
    new TextDecoder().decode(out),
    "The quick brown fox jumps over the lazy dog. ".repeat(3),
  );
  assert.equal(sha256(out), "dc985401a68faff03051c78bbf32bb2fd27ba216b0dba19b050b936d534b8ba9");
});

Deno.test("LzmsDecompressor.decompress() decodes the calls128 vector (x86 filter, delta match)", () => {
  const out = decode(hex("2629e4ce106e00000008a983dc5e7d35f86c3ee0a3579000001000e8"), 128);
  assert.deepEqual(out, calls128());
  assert.equal(sha256(out), "90be33084f992117530aeda06eb053239134113b3c9800b5f90529cf98d17fc1");
});

Deno.test("LzmsDecompressor.decompress() reuses one object across chunks of different sizes", () => {
  const decompressor = new LzmsDecompressor();
  const big = new Uint8Array(32768);
  const small = new Uint8Array(100);
  for (let round = 0; round < 3; round++) {
    big.fill(0xaa);
    decompressor.decompress(hex("ff6bd0ff000098ba43e40000"), big);
    assert.ok(big.every((b) => b === 0));
    decompressor.decompress(hex("ee64d0ff00000080f1636261"), small);
    assert.equal(new TextDecoder().decode(small), "abc".repeat(34).slice(0, 100));
  }
});

// ---- slot tables and helpers (§4.5) ----

Deno.test("lzms_common slot tables match wim-codecs.md §4.5", () => {
  assert.deepEqual(
    [...LZMS_OFFSET_SLOT_BASE.subarray(0, 20)],
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 53, 61],
  );
  assert.equal(LZMS_OFFSET_SLOT_BASE[798], 0x065be4a5);
  assert.equal(LZMS_OFFSET_SLOT_BASE[LZMS_MAX_NUM_OFFSET_SYMS], 0x465be4a5);
  assert.deepEqual(
    [...LZMS_LENGTH_SLOT_BASE.subarray(26, 54)],
    [27, 29, 31, 33, 35, 39, 43, 47, 51, 55, 59, 67, 75, 83, 91, 107, 123, 139, 155, 171, 203]
      .concat([235, 299, 427, 683, 1195, 2219, 67755]),
  );
  assert.equal(LZMS_LENGTH_SLOT_BASE[54], 1073809579);
  const slots = [32768, 65536, 131072, 1 << 20, 64 << 20, 1 << 30].map(lzmsOffsetSlotCount);
  assert.deepEqual(slots, [142, 171, 203, 317, 729, 799]);
});

Deno.test("buildLzmsCodeLengths() matches huffman.ts buildCodeLengths() and the §4.4 facts", () => {
  const scratch = new LzmsCodeScratch();
  const lengths = new Uint8Array(256);
  buildLzmsCodeLengths(new Uint32Array(256).fill(1), 256, lengths, scratch);
  assert.ok(lengths.every((len) => len === 8));
  const lengthCode = new Uint8Array(54);
  buildLzmsCodeLengths(new Uint32Array(54).fill(1), 54, lengthCode, scratch);
  assert.ok(lengthCode.every((len, sym) => len === (sym < 44 ? 6 : 5)));
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 799 }).chain((n) =>
        fc.array(fc.integer({ min: 1, max: 2100 }), { minLength: n, maxLength: n })
      ),
      (freqList) => {
        const n = freqList.length;
        const freqs = Uint32Array.from(freqList);
        const ours = new Uint8Array(n);
        const reference = new Uint8Array(n);
        buildLzmsCodeLengths(freqs, n, ours, scratch);
        buildCodeLengths(freqs, n, 15, reference);
        assert.deepEqual(ours, reference);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("lzmsX86Filter() undoes what it does, and translates calls128 as §4.7 says", () => {
  const usages = new Int32Array(LZMS_X86_TARGET_TABLE_SIZE + 1);
  const data = calls128();
  lzmsX86Filter(data, usages, false);
  const view = new DataView(data.buffer);
  for (let k = 0; k < 16; k++) {
    const p = 8 * k;
    const translated = p >= 24 && p <= 104;
    assert.equal(view.getInt32(p + 1, true), translated ? 0x1000 : 0x1000 - p, `call at ${p}`);
  }
  lzmsX86Filter(data, usages, true);
  assert.deepEqual(data, calls128());
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.boolean(), (bytes, dense) => {
      // Dense mode makes opcodes frequent so translation switches on.
      const input = bytes.map((b, i) =>
        dense && i % 3 === 0 ? [0xe8, 0x48, 0xff, 0xe9][b & 3]! : b
      );
      const copy = input.slice();
      lzmsX86Filter(copy, usages, false);
      lzmsX86Filter(copy, usages, true);
      assert.deepEqual(copy, input);
    }),
    { numRuns: 300 },
  );
});

// ---- error handling ----

Deno.test("LzmsDecompressor.decompress() rejects odd and too-short chunks", () => {
  const decompressor = new LzmsDecompressor();
  for (const size of [0, 1, 2, 3, 5, 13]) {
    assert.throws(
      () => decompressor.decompress(new Uint8Array(size), new Uint8Array(10)),
      CodecError,
    );
  }
});

Deno.test("LzmsDecompressor.decompress() rejects a match that overruns the chunk", () => {
  // zeros32k is two literals and one 32766-byte match: too long for a 1000-byte chunk.
  const decompressor = new LzmsDecompressor();
  assert.throws(
    () => decompressor.decompress(hex("ff6bd0ff000098ba43e40000"), new Uint8Array(1000)),
    CodecError,
  );
});

Deno.test("LzmsDecompressor.decompress() gives CodecError or fills dst for random input", () => {
  const decompressor = new LzmsDecompressor();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 4, maxLength: 2048 }).map((a) => a.subarray(0, a.length & ~1)),
      fc.integer({ min: 1, max: 1 << 17 }),
      (src, size) => {
        const dst = new Uint8Array(size);
        try {
          decompressor.decompress(src, dst);
        } catch (error) {
          assert.ok(error instanceof CodecError, String(error));
        }
      },
    ),
    { numRuns: 500 },
  );
});

// ---- chunks made by wimlib ----

function readSample(path: string, size: number, skip = 0): Uint8Array | null {
  try {
    const data = Deno.readFileSync(path);
    if (data.length < size) return null;
    const start = Math.min(skip, data.length - size);
    return data.subarray(start, start + size);
  } catch {
    return null;
  }
}

function binarySample(size: number): Uint8Array {
  for (
    const path of [
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
      "/usr/bin/perf",
      "/usr/lib/x86_64-linux-gnu/libwim.so.15",
      "/usr/bin/bash",
    ]
  ) {
    const sample = readSample(path, size, 65536);
    if (sample) return sample;
  }
  throw new Error("no x86 binary of at least " + size + " bytes found");
}

function textSample(size: number): Uint8Array {
  const text = Deno.readFileSync(
    new URL("../../README.md", import.meta.url),
  )
    .subarray(0, size);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += text.length) out.set(text.subarray(0, size - i), i);
  return out;
}

function repetitiveSample(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = ["alpha ", "beta ", "gamma\n", "delta-", "0123456789"].map((w) =>
    new TextEncoder().encode(w)
  );
  let pos = 0;
  let x = 12345;
  while (pos < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    const word = words[(x >>> 16) % words.length]!;
    out.set(word.subarray(0, size - pos), pos);
    pos += word.length;
  }
  return out;
}

function tableSample(size: number): Uint8Array {
  // Records of incrementing 32-bit integers and 16-bit samples: what delta matches are for.
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 12 <= size; i += 12) {
    view.setUint32(i, 1000 + i * 7, true);
    view.setUint32(i + 4, 0x10000 - i, true);
    view.setUint16(i + 8, (i * 3) & 0xffff, true);
    view.setUint16(i + 10, 77, true);
  }
  return out;
}

function checkWithLibwim(data: Uint8Array, level: number): boolean {
  const compressed = libwimCompress("lzms", data, { level });
  if (!compressed) return false; // incompressible: stored raw, not a codec case
  const out = new Uint8Array(data.length);
  new LzmsDecompressor().decompress(compressed, out);
  assert.ok(out.every((b, i) => b === data[i]), `mismatch: ${data.length} bytes at level ${level}`);
  return true;
}

const SIZES = [1024, 32768, 131072, 1 << 20, 4 << 20];
const KINDS: [string, (size: number) => Uint8Array][] = [
  ["repetitive", repetitiveSample],
  ["x86 binary", binarySample],
  ["text", textSample],
  ["table", tableSample],
];

for (const [kind, make] of KINDS) {
  Deno.test({
    name: `LzmsDecompressor.decompress() decodes wimlib's chunks of ${kind} data`,
    ignore: !LIBWIM,
    fn() {
      let decoded = 0;
      for (const size of SIZES) {
        const data = make(size);
        for (const level of [20, 50, 100]) {
          if (size === 4 << 20 && level === 100) continue; // slow to compress; 50 covers it
          if (checkWithLibwim(data, level)) decoded++;
        }
      }
      assert.ok(decoded >= 10, `only ${decoded} chunks were compressible`);
    },
  });
}

Deno.test({
  name: "LzmsDecompressor.decompress() handles delta matches",
  ignore: !LIBWIM,
  fn() {
    const ints = new Uint8Array(256 * 1024);
    const view = new DataView(ints.buffer);
    for (let i = 0; i < ints.length / 4; i++) view.setUint32(i * 4, i * 3 + 1000, true);
    const compressed = libwimCompress("lzms", ints, { level: 50 })!;
    // A literal/LZ coding of this needs far more than 1% of the input.
    assert.ok(compressed.length < ints.length / 100, `compressed to ${compressed.length}`);
    assert.deepEqual(decode(compressed, ints.length), ints);
  },
});

Deno.test({
  name: "LzmsDecompressor.decompress() uses the actual size of a short last chunk",
  ignore: !LIBWIM,
  fn() {
    const data = binarySample(131072 + 40000).subarray(131072);
    const compressed = libwimCompress("lzms", data, { level: 50, maxBlockSize: 131072 })!;
    assert.deepEqual(decode(compressed, data.length), data);
  },
});

Deno.test({
  name: "LzmsDecompressor.decompress() agrees with wimlib on corrupted chunks",
  ignore: !LIBWIM,
  fn() {
    const data = binarySample(32768);
    const compressed = libwimCompress("lzms", data, { level: 50 })!;
    const decompressor = new LzmsDecompressor();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (flips) => {
          const bad = compressed.slice();
          for (const [at, mask] of flips) bad[at % bad.length]! ^= mask;
          const ours = new Uint8Array(data.length);
          let ok = true;
          try {
            decompressor.decompress(bad, ours);
          } catch (error) {
            assert.ok(error instanceof CodecError);
            ok = false;
          }
          const theirs = libwimDecompress("lzms", bad, data.length);
          assert.equal(ok, theirs !== null, "wimkit and wimlib disagree on validity");
          if (theirs) assert.deepEqual(ours, theirs);
        },
      ),
      { numRuns: 150 },
    );
  },
});

Deno.test({
  name: "LzmsDecompressor.decompress() decodes random slices of wimlib chunks",
  ignore: !LIBWIM,
  fn() {
    const binary = binarySample(1 << 20);
    const text = textSample(1 << 18);
    const decompressor = new LzmsDecompressor();
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 4, max: 200000 }),
        fc.constantFrom(20, 50, 100),
        (useText, start, size, level) => {
          const source = useText ? text : binary;
          const at = start % Math.max(1, source.length - size);
          const data = source.subarray(at, at + Math.min(size, source.length));
          const compressed = libwimCompress("lzms", data, { level });
          if (!compressed) return;
          const out = new Uint8Array(data.length);
          decompressor.decompress(compressed, out);
          assert.ok(out.every((b, i) => b === data[i]));
        },
      ),
      { numRuns: 40 },
    );
  },
});

Deno.test("LzmsDecompressor.decompress() leaves no state behind between chunks", () => {
  // Decoding garbage (which may fail half way) must not change how the next chunk decodes.
  const decompressor = new LzmsDecompressor();
  const garbage = pseudoRandom(4096, 99);
  for (let i = 0; i < 5; i++) {
    try {
      decompressor.decompress(garbage.subarray(0, 4096 - 2 * i), new Uint8Array(50000));
    } catch (error) {
      assert.ok(error instanceof CodecError);
    }
    const out = new Uint8Array(135);
    decompressor.decompress(
      hex(
        "040093f8751500000078c7a60271397b2303c9d30b63b3bc74207265766f2073" +
          "706d756a20786f66206e776f7262206b6369757120656854",
      ),
      out,
    );
    assert.equal(
      new TextDecoder().decode(out),
      "The quick brown fox jumps over the lazy dog. ".repeat(3),
    );
  }
});
