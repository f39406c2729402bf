/**
 * Tests for the LZX compressor: round trips through wimkit's LzxDecompressor and wimlib's
 * decompressor (FFI), the "never write past dst" contract, and the size ratio against wimlib's
 * default level on x86 binaries (size ratios are deterministic; time ratios are not tested).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { LzxCompressor } from "../../lib/codecs/lzx_compress.ts";
import { LzxDecompressor } from "../../lib/codecs/lzx_decompress.ts";
import { hasLibwim, libwimCompress, libwimDecompress } from "../support/libwim.ts";
import { assertSameBytes, pseudoRandom, repetitive } from "../support/codec_data.ts";

const noLibwim = !hasLibwim();
const WINE_DLL_DIR = "/tmp/wine/x/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/";
/** A fixed slice of the Wine PE corpus used for the size-ratio test. */
const WINE_DLLS = ["kernelbase.dll", "ntdll.dll", "user32.dll", "ole32.dll", "msvcrt.dll"];

function textData(length: number): Uint8Array {
  const words = ["wim", "image", "chunk", "resource", "the", "of", "LZX", "window", "block", "\n"];
  const random = pseudoRandom(length, 7);
  const parts: string[] = [];
  for (let i = 0, size = 0; size < length; i++) {
    const word = words[random[i % length]! % words.length]!;
    parts.push(word, " ");
    size += word.length + 1;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, length);
}

/** Synthetic x86-like code: calls (E8 + rel32) to a few targets between filler instructions. */
function callHeavy(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const random = pseudoRandom(length, seed);
  const targets = [0x1000, 0x2340, 0x8000, 0x12345, -0x40];
  for (let p = 0; p < length;) {
    if (random[p]! < 90 && p + 5 <= length) {
      const rel = targets[random[p]! % targets.length]! - p;
      out[p] = 0xe8;
      out[p + 1] = rel;
      out[p + 2] = rel >> 8;
      out[p + 3] = rel >> 16;
      out[p + 4] = rel >> 24;
      p += 5;
    } else {
      out[p] = [0x48, 0x89, 0x8b, 0x90, 0xc3, 0x0f][random[p]! % 6]!;
      p++;
    }
  }
  return out;
}

let denoBinary: Uint8Array | undefined;
/** Real x86-64 code that is always present: the running Deno executable. */
function denoCode(length: number, skip = 1 << 20): Uint8Array {
  denoBinary ??= Deno.readFileSync(Deno.execPath());
  return denoBinary.slice(skip, skip + length);
}

function wineDlls(): Uint8Array[] | null {
  try {
    return WINE_DLLS.map((name) => Deno.readFileSync(WINE_DLL_DIR + name));
  } catch {
    return null;
  }
}
const noWine = wineDlls() === null;

/** Compresses as a WIM writer does (dst one byte short of the input); null when stored raw. */
function compress(
  data: Uint8Array,
  options: { chunkSize?: number; level?: number } = {},
  dstLength = data.length - 1,
): Uint8Array | null {
  const dst = new Uint8Array(Math.max(dstLength, 0));
  const size = new LzxCompressor(options).compress(data, dst);
  return size === 0 ? null : dst.slice(0, size);
}

/** Checks that `compressed` decodes to `data` with wimkit's and (when present) wimlib's decoder. */
function assertRoundTrip(
  compressed: Uint8Array,
  data: Uint8Array,
  chunkSize: number,
  what: string,
): void {
  const back = new Uint8Array(data.length);
  new LzxDecompressor(chunkSize).decompress(compressed, back);
  assertSameBytes(back, data, `${what} (LzxDecompressor)`);
  if (!noLibwim) {
    const theirs = libwimDecompress("lzx", compressed, data.length, chunkSize);
    assert.ok(theirs, `${what}: wimlib rejected the chunk`);
    assertSameBytes(theirs, data, `${what} (wimlib)`);
  }
}

Deno.test("LzxCompressor round-trips every size boundary and data kind at 32 KiB", () => {
  const kinds: Array<[string, (n: number) => Uint8Array]> = [
    ["repetitive", repetitive],
    ["text", textData],
    ["calls", (n) => callHeavy(n, 3)],
    ["deno code", (n) => denoCode(n)],
  ];
  for (const [kind, make] of kinds) {
    for (const size of [1, 63, 64, 100, 1000, 32767, 32768]) {
      const data = make(size);
      // Tiny chunks cannot shrink; give them room so their encoding is still checked.
      const compressed = compress(data, {}, size < 200 ? 1000 : size - 1);
      if (compressed === null) {
        assert.ok(size <= 100, `${kind} ${size}: expected to compress`);
        continue;
      }
      assertRoundTrip(compressed, data, 32768, `${kind} ${size}`);
    }
  }
});

Deno.test("LzxCompressor returns 0 for random data and tiny chunks", () => {
  for (const size of [1, 64, 1000, 32768]) {
    assert.equal(
      new LzxCompressor().compress(pseudoRandom(size, size), new Uint8Array(size - 1)),
      0,
    );
  }
  assert.equal(new LzxCompressor().compress(new Uint8Array(0), new Uint8Array(10)), 0);
  assert.equal(new LzxCompressor().compress(repetitive(1000), new Uint8Array(0)), 0);
});

Deno.test("LzxCompressor does not modify src (E8 translation works on a copy)", () => {
  const data = callHeavy(32768, 9);
  const copy = data.slice();
  const compressed = compress(data);
  assert.ok(compressed);
  assertSameBytes(data, copy, "src after compress");
  assertRoundTrip(compressed, data, 32768, "calls");
});

Deno.test("LzxCompressor compresses E8-heavy code better with translation than it stores", () => {
  const data = callHeavy(32768, 11);
  const compressed = compress(data);
  assert.ok(compressed && compressed.length < data.length / 2, `size ${compressed?.length}`);
});

Deno.test("LzxCompressor round-trips 64 KiB and 1 MiB windows, with short last chunks", () => {
  for (const chunkSize of [65536, 1 << 20]) {
    const code = denoCode(chunkSize);
    const mixed = new Uint8Array(chunkSize);
    mixed.set(textData(chunkSize >> 2));
    mixed.set(callHeavy(chunkSize >> 2, 5), chunkSize >> 2);
    mixed.set(code.subarray(0, chunkSize >> 1), chunkSize >> 1);
    const compressor = new LzxCompressor({ chunkSize });
    for (const data of [code, mixed, mixed.subarray(0, 40000), code.subarray(0, 32768 + 7)]) {
      const dst = new Uint8Array(data.length - 1);
      const size = compressor.compress(data, dst);
      assert.ok(size > 0, `window ${chunkSize}, ${data.length} bytes: expected to compress`);
      assertRoundTrip(
        dst.subarray(0, size),
        data,
        chunkSize,
        `window ${chunkSize}, ${data.length}`,
      );
    }
  }
});

Deno.test("LzxCompressor levels 1 to 100 all round-trip", () => {
  const data = denoCode(32768, 3 << 20);
  for (const level of [1, 10, 20, 34, 35, 50, 60, 90, 100]) {
    const compressed = compress(data, { level });
    assert.ok(compressed, `level ${level}`);
    assertRoundTrip(compressed, data, 32768, `level ${level}`);
  }
});

Deno.test("LzxCompressor rejects bad options and oversized chunks", () => {
  assert.throws(() => new LzxCompressor({ chunkSize: 4096 }), RangeError);
  assert.throws(() => new LzxCompressor({ chunkSize: 50000 }), RangeError);
  assert.throws(() => new LzxCompressor({ level: 0 }), RangeError);
  assert.throws(() => new LzxCompressor({ level: 1.5 }), RangeError);
  assert.throws(
    () => new LzxCompressor().compress(new Uint8Array(32769), new Uint8Array(10)),
    RangeError,
  );
});

Deno.test("LzxCompressor never writes past dst and round-trips arbitrary data (property)", () => {
  const compressor = new LzxCompressor();
  const decompressor = new LzxDecompressor(32768);
  const data = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 4000 }),
    fc.array(fc.constantFrom(0, 1, 0xe8, 0xff, 0x41), { minLength: 1, maxLength: 6000 })
      .map((bytes) => Uint8Array.from(bytes)),
    fc.tuple(fc.integer({ min: 1, max: 32768 }), fc.integer({ min: 1, max: 1000 }))
      .map(([size, seed]) => callHeavy(size, seed)),
  );
  fc.assert(
    fc.property(data, fc.integer({ min: 0, max: 64 }), (input, slack) => {
      // dst sits in a larger buffer whose guard bytes must stay untouched.
      const limit = Math.max(0, input.length - slack);
      const buffer = new Uint8Array(limit + 64).fill(0xa5);
      const dst = buffer.subarray(0, limit);
      const size = compressor.compress(input, dst);
      assert.ok(size <= limit);
      for (let i = limit; i < buffer.length; i++) assert.equal(buffer[i], 0xa5);
      if (size > 0) {
        const back = new Uint8Array(input.length);
        decompressor.decompress(dst.subarray(0, size), back);
        assertSameBytes(back, input, "property round trip");
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test({
  name: "LzxCompressor output decodes with wimlib (property)",
  ignore: noLibwim,
  fn() {
    const compressor = new LzxCompressor();
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 32768 }),
        fc.integer({ min: 0, max: 1 << 22 }),
        (size, skip) => {
          const data = denoCode(size, skip);
          if (data.length < 64) return;
          const dst = new Uint8Array(data.length - 1);
          const n = compressor.compress(data, dst);
          if (n === 0) return;
          const theirs = libwimDecompress("lzx", dst.subarray(0, n), data.length, 32768);
          assert.ok(theirs, "wimlib rejected the chunk");
          assertSameBytes(theirs, data, "wimlib round trip");
        },
      ),
      { numRuns: 40 },
    );
  },
});

/** Total compressed size of 32 KiB chunks (raw size for chunks that do not shrink). */
function totalSizes(files: Uint8Array[], chunksPerFile: number): { ours: number; wimlib: number } {
  const compressor = new LzxCompressor();
  const dst = new Uint8Array(32768);
  let ours = 0;
  let wimlib = 0;
  for (const file of files) {
    for (let k = 0; k < chunksPerFile && k * 32768 < file.length; k++) {
      const chunk = file.subarray(k * 32768, Math.min(file.length, (k + 1) * 32768));
      const size = compressor.compress(chunk, dst.subarray(0, chunk.length - 1));
      ours += size || chunk.length;
      wimlib += libwimCompress("lzx", chunk, { maxBlockSize: 32768 })?.length ?? chunk.length;
    }
  }
  return { ours, wimlib };
}

Deno.test({
  name: "LzxCompressor default level is within 3% of wimlib's on Wine PE DLLs",
  ignore: noLibwim || noWine,
  fn() {
    const { ours, wimlib } = totalSizes(wineDlls()!, 16);
    const ratio = ours / wimlib;
    assert.ok(ratio <= 1.03, `size ratio ${ratio.toFixed(4)} (${ours} vs ${wimlib})`);
  },
});

Deno.test({
  name: "LzxCompressor default level is within 3% of wimlib's on the Deno executable",
  ignore: noLibwim,
  fn() {
    const { ours, wimlib } = totalSizes([denoCode(64 * 32768)], 64);
    const ratio = ours / wimlib;
    assert.ok(ratio <= 1.03, `size ratio ${ratio.toFixed(4)} (${ours} vs ${wimlib})`);
  },
});
