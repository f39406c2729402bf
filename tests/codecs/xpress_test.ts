import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { CodecError } from "../../lib/errors.ts";
import { XPRESS_DEFAULT_LEVEL, XpressCompressor } from "../../lib/codecs/xpress_compress.ts";
import { XpressDecompressor } from "../../lib/codecs/xpress_decompress.ts";
import { hasLibwim, libwimCompress, libwimDecompress } from "../support/libwim.ts";

// ---------------------------------------------------------------------------------------------
// Inputs

/** XPRESS streams of the wim-codecs.md §6 test vectors (made by libwim 1.13.6, level 50). */
const XPRESS_VECTORS: Record<string, string> = {
  abc100: [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000020330000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0200000000000000000000000000002000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "2a3700004e",
  ].join(""),
  zeros32k: [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0200000000000020000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "00380000fffb7f",
  ].join(""),
  random100: [
    "0700707770060000607700760700005007000070000000007000000070700000",
    "7770000700777000700000700070007070077700070000670770007000077070",
    "0000006707000070006700070007000060070060606606600000006000600000",
    "0600050060600000606006006606600006600600060066000050000666060000",
    "0600000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "65de4bc658baa13b675b7c62e7f42e6f594dd9f1f42b3725ebf5e2d0b7c31e93",
    "5392e0704efe4761c4533ce4601d27b5b2ca62a610c7166f19e638a7aa447622",
    "86f86008a0f7fd7a1a70f6b97f28f44900800000",
  ].join(""),
  fox: [
    "0000000000000000000000000000000003000000000000060000000000000000",
    "0000000000000000000005000000000060665666565555455555555555050000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0500000000000000000000000000000000000000000000000000000000000000",
    "0500000000000000000000000000005000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e7379a0f503b05ea8f56c14a63330aa28087bd96e27cc2e380fbb76d00204700",
    "00",
  ].join(""),
  calls128: [
    "0400000000000050050000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000005000000040000000500000005000000050000000500000005000000",
    "0500000005000000050000000500000005000000040000000500000005000000",
    "0500000000000000000000000000000000000000000000000040020000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "8a64aa22a0b7a0e37060061b908117608105505002134e82003e0000",
  ].join(""),
};

const encoder = new TextEncoder();

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The uncompressed inputs of the §6 vectors. */
function vectorInput(name: string): Uint8Array {
  switch (name) {
    case "abc100":
      return encoder.encode("abc".repeat(34).slice(0, 100));
    case "zeros32k":
      return new Uint8Array(32768);
    case "random100": {
      const parts = [0, 1, 2, 3].map((i) =>
        createHash("sha256").update(`wim-codec-vector-${i}`).digest()
      );
      return new Uint8Array(Buffer.concat(parts)).slice(0, 100);
    }
    case "fox":
      return encoder.encode("The quick brown fox jumps over the lazy dog. ".repeat(3));
    case "calls128": {
      const data = new Uint8Array(128);
      const view = new DataView(data.buffer);
      for (let p = 0; p < 128; p += 8) {
        data[p] = 0xe8;
        view.setInt32(p + 1, 0x1000 - p, true);
        data.fill(0x90, p + 5, p + 8);
      }
      return data;
    }
  }
  throw new Error(`unknown vector ${name}`);
}

const VECTOR_SHA256: Record<string, string> = {
  abc100: "46a5cb8db0c3ce85b6f5922152695bfcb8023148999ba8db089d7ee421f28d68",
  zeros32k: "c35020473aed1b4642cd726cad727b63fff2824ad68cedd7ffb73c7cbd890479",
  random100: "db470c9b11e6037ef5597972deaef28ba000205ba5dc39d0caaf4b8af15e60fb",
  fox: "dc985401a68faff03051c78bbf32bb2fd27ba216b0dba19b050b936d534b8ba9",
  calls128: "90be33084f992117530aeda06eb053239134113b3c9800b5f90529cf98d17fc1",
};

/** A small deterministic generator (xorshift32) for reproducible corpora. */
function randomBytes(size: number, seed: number): Uint8Array {
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

/** Repetitive data: phrases from a small vocabulary with occasional noise. */
function repetitiveBytes(size: number, seed: number): Uint8Array {
  const noise = randomBytes(size, seed);
  const words = ["alpha ", "beta ", "gamma\n", "\x00\x00\x00\x00", "delta-epsilon ", "\xff\xfe"];
  const out = new Uint8Array(size);
  let pos = 0;
  let i = 0;
  while (pos < size) {
    const r = noise[i++ % size]!;
    if (r < 16) {
      out[pos++] = r * 13;
      continue;
    }
    const word = words[r % words.length]!;
    for (let k = 0; k < word.length && pos < size; k++) out[pos++] = word.charCodeAt(k);
  }
  return out;
}

/** x86-64 machine code: slices of the running Deno executable. */
const binary = Deno.readFileSync(Deno.execPath()).subarray(0, 8 << 20);

/** Text: this repository's TypeScript sources. */
const text = (() => {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const dir of ["lib/codecs", "lib", "tests/codecs", "tests/support"]) {
    const url = new URL(`../../${dir}/`, import.meta.url);
    for (const entry of Deno.readDirSync(url)) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const bytes = Deno.readFileSync(new URL(entry.name, url));
      parts.push(bytes);
      total += bytes.length;
    }
  }
  const out = new Uint8Array(Math.max(total, 1));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  // Repeat the sources if they are shorter than the largest chunk we cut.
  const wanted = 256 << 10;
  if (out.length >= wanted) return out;
  const grown = new Uint8Array(wanted);
  for (let p = 0; p < wanted; p += out.length) grown.set(out.subarray(0, wanted - p), p);
  return grown;
})();

/** A slice of `source` of `size` bytes starting at a position chosen by `seed`. */
function sliceOf(source: Uint8Array, size: number, seed: number): Uint8Array {
  const start = (Math.imul(seed, 2654435761) >>> 0) % Math.max(1, source.length - size);
  return source.slice(start, start + size);
}

type Kind = "random" | "repetitive" | "binary" | "text";
const KINDS: Kind[] = ["random", "repetitive", "binary", "text"];

function sample(kind: Kind, size: number, seed: number): Uint8Array {
  switch (kind) {
    case "random":
      return randomBytes(size, seed);
    case "repetitive":
      return repetitiveBytes(size, seed);
    case "binary":
      return sliceOf(binary, size, seed);
    case "text":
      return sliceOf(text, size, seed);
  }
}

const CHUNK_SIZES = [25, 4096, 32767, 32768, 65536];

// ---------------------------------------------------------------------------------------------
// Helpers

function decompress(src: Uint8Array, size: number): Uint8Array {
  const dst = new Uint8Array(size);
  new XpressDecompressor().decompress(src, dst);
  return dst;
}

/** Compresses with a buffer big enough for any outcome (the codec never gives up). */
function compress(data: Uint8Array, level = XPRESS_DEFAULT_LEVEL): Uint8Array {
  const dst = new Uint8Array(data.length + 1024);
  const size = new XpressCompressor({ level }).compress(data, dst);
  assert.ok(size > 0);
  return dst.slice(0, size);
}

/** Asserts equality without printing megabytes on failure. */
function assertSameBytes(actual: Uint8Array | null, expected: Uint8Array, what: string): void {
  assert.ok(actual, `${what}: no output`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: first difference at byte ${i}`);
  }
}

/** A chunk with the given (symbol, length) pairs as its code and `body` after the table. */
function chunkWith(code: [number, number][], body: number[]): Uint8Array {
  const chunk = new Uint8Array(256 + body.length);
  for (const [sym, len] of code) chunk[sym >> 1]! |= (sym & 1) === 0 ? len : len << 4;
  chunk.set(body, 256);
  return chunk;
}

/**
 * A reference decoder written bit by bit from wim-codecs.md §2.3/§2.4, independent of ours. It
 * returns the output and the symbol that follows the last byte (the end marker, if any).
 */
function referenceDecode(src: Uint8Array, size: number): { out: Uint8Array; next: number } {
  const lengths: number[] = [];
  for (let i = 0; i < 256; i++) lengths.push(src[i]! & 15, src[i]! >> 4);
  // Canonical code: map "length:code" to symbol.
  const bySymbol = lengths.map((len, sym) => ({ len, sym })).filter((e) => e.len > 0)
    .sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Map<string, number>();
  let code = 0;
  let prevLen = 0;
  for (const { len, sym } of bySymbol) {
    code <<= len - prevLen;
    prevLen = len;
    codes.set(`${len}:${code}`, sym);
    code++;
  }
  let pos = 256;
  const bits: number[] = [];
  const pull = () => {
    const word = pos + 1 < src.length ? src[pos]! | (src[pos + 1]! << 8) : 0;
    pos += 2;
    for (let b = 15; b >= 0; b--) bits.push((word >> b) & 1);
  };
  const take = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      v = (v << 1) | bits.shift()!;
      if (bits.length < 16) pull();
    }
    return v;
  };
  const symbol = () => {
    let c = 0;
    for (let len = 1; len <= 15; len++) {
      c = (c << 1) | take(1);
      const sym = codes.get(`${len}:${c}`);
      if (sym !== undefined) return sym;
    }
    throw new Error("bad code");
  };
  pull();
  pull();
  const out: number[] = [];
  while (out.length < size) {
    const sym = symbol();
    if (sym < 256) {
      out.push(sym);
      continue;
    }
    let length = sym & 15;
    const k = (sym >> 4) & 15;
    if (length === 15) {
      length = src[pos++]!;
      if (length === 255) {
        length = src[pos]! | (src[pos + 1]! << 8);
        pos += 2;
      } else {
        length += 15;
      }
    }
    length += 3;
    const offset = (1 << k) | take(k);
    if (offset > out.length) throw new Error("bad offset");
    for (let i = 0; i < length; i++) out.push(out[out.length - offset]!);
  }
  return { out: Uint8Array.from(out), next: symbol() };
}

// ---------------------------------------------------------------------------------------------
// Decoder: known streams

Deno.test("XpressDecompressor.decompress() decodes the wim-codecs.md §6 vectors", () => {
  for (const [name, stream] of Object.entries(XPRESS_VECTORS)) {
    const input = vectorInput(name);
    assert.equal(sha256(input), VECTOR_SHA256[name], `${name}: input definition`);
    assertSameBytes(decompress(hex(stream), input.length), input, name);
  }
});

Deno.test("XpressDecompressor.decompress() decodes libwim chunks of every kind and size", {
  ignore: !hasLibwim(),
}, () => {
  const decoder = new XpressDecompressor();
  let checked = 0;
  for (const kind of KINDS) {
    for (const size of CHUNK_SIZES) {
      for (const level of [1, 50, 100]) {
        const data = sample(kind, size, size + level);
        // A limit above the size makes libwim return its stream even for random data.
        const packed = libwimCompress("xpress", data, {
          maxBlockSize: 65536,
          level,
          limit: size + 1024,
        });
        assert.ok(packed, `${kind} ${size} L${level}: libwim returned nothing`);
        const out = new Uint8Array(size);
        decoder.decompress(packed, out);
        assertSameBytes(out, data, `${kind} ${size} L${level}`);
        checked++;
      }
    }
  }
  assert.equal(checked, KINDS.length * CHUNK_SIZES.length * 3);
});

Deno.test("XpressDecompressor.decompress() decodes consecutive libwim chunks of a binary", {
  ignore: !hasLibwim(),
}, () => {
  const decoder = new XpressDecompressor();
  for (const chunkSize of [4096, 32768, 65536]) {
    for (let pos = 0; pos < 1 << 20; pos += chunkSize) {
      const data = binary.subarray(pos, pos + chunkSize);
      const packed = libwimCompress("xpress", data, { maxBlockSize: 65536 });
      if (packed === null) continue; // stored raw in a WIM
      const out = new Uint8Array(data.length);
      decoder.decompress(packed, out);
      assertSameBytes(out, data, `chunk at ${pos} of ${chunkSize}`);
    }
  }
});

Deno.test("XpressDecompressor.decompress() reads zero bits past the end of the input", () => {
  // Symbols 0 and 1 with 1-bit codes and no bitstream at all: every bit is 0, so every byte is 0.
  const chunk = chunkWith([[0, 1], [1, 1]], []);
  assert.deepEqual(decompress(chunk, 1000), new Uint8Array(1000));
});

Deno.test("XpressDecompressor.decompress() ignores data after the last byte", () => {
  const stream = hex(XPRESS_VECTORS.fox!);
  const padded = new Uint8Array(stream.length + 100).fill(0xa5);
  padded.set(stream);
  assertSameBytes(decompress(padded, 135), vectorInput("fox"), "fox with trailing bytes");
});

Deno.test("XpressDecompressor.decompress() accepts the 32-bit length form of [MS-XCA]", () => {
  // Literal 0 (code 0), then symbol 271 (code 1: length header 15, offset 1). Two bits are used,
  // the reader holds words 0 and 1, so the length bytes start at body offset 4: 255, u16 0,
  // u32 96 -> 99 bytes.
  const chunk = chunkWith([[0, 1], [271, 1]], [0x00, 0x40, 0, 0, 255, 0, 0, 96, 0, 0, 0]);
  assert.deepEqual(decompress(chunk, 100), new Uint8Array(100));
});

Deno.test("XpressDecompressor.decompress() takes length bytes after the words already read", () => {
  // 'a' (code 0) and symbol 271 (code 1: length header 15, offset 1) alternate 8 times, filling
  // word 0 exactly. The 8th match symbol ends on the word boundary with 16 bits still held, so no
  // word is pulled and its length byte directly follows the 7th: bytes 4..11 hold 0..7, giving
  // matches of 18..25 bytes (180 bytes in all). A reader that pulled one word early or late would
  // read other bytes and fail.
  const chunk = chunkWith([[0x61, 1], [271, 1]], [0x55, 0x55, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(decompress(chunk, 180), new Uint8Array(180).fill(0x61));
});

// ---------------------------------------------------------------------------------------------
// Decoder: bad input

function assertCodecError(chunk: Uint8Array, size: number, pattern: RegExp): void {
  assert.throws(() => decompress(chunk, size), (error: unknown) => {
    assert.ok(error instanceof CodecError, `expected CodecError, got ${error}`);
    assert.equal(error.code, "codec");
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("XpressDecompressor.decompress() rejects a chunk shorter than the code table", () => {
  assertCodecError(new Uint8Array(255), 10, /shorter than the 256-byte code table/);
  assertCodecError(new Uint8Array(0), 1, /shorter/);
});

Deno.test("XpressDecompressor.decompress() rejects empty, incomplete and over-full codes", () => {
  assertCodecError(new Uint8Array(300), 10, /not a complete code/);
  assertCodecError(chunkWith([[0, 1]], [0, 0, 0, 0]), 10, /not a complete code/);
  assertCodecError(chunkWith([[0, 1], [1, 1], [2, 1]], [0, 0, 0, 0]), 10, /not a complete code/);
});

Deno.test("XpressDecompressor.decompress() rejects a match offset before the start", () => {
  // First symbol 256 (code 1): a match at output position 0.
  assertCodecError(
    chunkWith([[0, 1], [256, 1]], [0x00, 0x80, 0, 0]),
    10,
    /points before the start/,
  );
});

Deno.test("XpressDecompressor.decompress() rejects a match running past the end", () => {
  // Literal 0, then symbol 256 (length 3, offset 1) with only 3 bytes of output.
  assertCodecError(chunkWith([[0, 1], [256, 1]], [0x00, 0x40, 0, 0]), 3, /runs past the end/);
});

Deno.test("XpressDecompressor.decompress() rejects a chunk ending inside a match length", () => {
  const code: [number, number][] = [[0, 1], [271, 1]];
  assertCodecError(chunkWith(code, [0x00, 0x40, 0, 0]), 100, /ends inside a match length/);
  assertCodecError(chunkWith(code, [0x00, 0x40, 0, 0, 255, 1]), 100, /ends inside/);
  assertCodecError(chunkWith(code, [0x00, 0x40, 0, 0, 255, 0, 0, 1, 0]), 100, /ends inside/);
});

Deno.test("XpressDecompressor.decompress() throws RangeError for chunks over 64 KiB", () => {
  assert.throws(
    () => new XpressDecompressor().decompress(new Uint8Array(300), new Uint8Array(65537)),
    RangeError,
  );
});

// ---------------------------------------------------------------------------------------------
// Encoder

Deno.test("XpressCompressor.compress() output decodes with ours and libwim", {
  ignore: !hasLibwim(),
}, () => {
  for (const kind of KINDS) {
    for (const size of [1, 2, 3, 25, 300, ...CHUNK_SIZES]) {
      for (const level of [10, 50, 80]) {
        const data = sample(kind, size, size * 7 + level);
        const packed = compress(data, level);
        const what = `${kind} ${size} L${level}`;
        assertSameBytes(decompress(packed, size), data, `${what} (wimkit)`);
        assertSameBytes(libwimDecompress("xpress", packed, size, 65536), data, `${what} (libwim)`);
      }
    }
  }
});

Deno.test("XpressCompressor.compress() output decodes with libwim on the §6 vector inputs", {
  ignore: !hasLibwim(),
}, () => {
  for (const name of Object.keys(XPRESS_VECTORS)) {
    const input = vectorInput(name);
    const packed = compress(input);
    assertSameBytes(libwimDecompress("xpress", packed, input.length), input, name);
    // Matches what libwim's level-50 compressor achieves on these small inputs.
    assert.ok(packed.length <= hex(XPRESS_VECTORS[name]!).length, `${name}: ${packed.length}`);
  }
});

Deno.test("XpressCompressor.compress() ends the data with the end-of-data symbol 256", () => {
  for (const kind of KINDS) {
    for (const size of [1, 100, 4096, 32768]) {
      const data = sample(kind, size, size);
      const packed = compress(data);
      const { out, next } = referenceDecode(packed, size);
      assertSameBytes(out, data, `${kind} ${size}`);
      assert.equal(next, 256, `${kind} ${size}`);
    }
  }
});

Deno.test("XpressCompressor.compress() makes the documented abc100 and zeros32k streams", () => {
  // Same sizes as wimlib (§6); the items differ only in where the first match starts.
  assert.equal(compress(vectorInput("abc100")).length, 261);
  assert.equal(compress(vectorInput("zeros32k")).length, 263);
});

Deno.test("XpressCompressor.compress() returns 0 without writing when dst is too small", () => {
  const data = sample("text", 4096, 1);
  const size = compress(data).length;
  const compressor = new XpressCompressor();
  for (const limit of [0, 100, 259, 260, size - 1]) {
    const dst = new Uint8Array(limit).fill(0xa5);
    assert.equal(compressor.compress(data, dst), 0, `limit ${limit}`);
    assert.ok(dst.every((b) => b === 0xa5), `limit ${limit}: dst was written`);
  }
  const exact = new Uint8Array(size);
  assert.equal(compressor.compress(data, exact), size);
  assertSameBytes(decompress(exact, data.length), data, "exact fit");
});

Deno.test("XpressCompressor.compress() gives up on incompressible chunks as a WIM writer wants", () => {
  const data = randomBytes(32768, 99);
  assert.equal(new XpressCompressor().compress(data, new Uint8Array(data.length - 1)), 0);
});

Deno.test("XpressCompressor rejects bad levels and chunks over 64 KiB", () => {
  for (const level of [0, -1, 1.5, 2 ** 24, NaN]) {
    assert.throws(() => new XpressCompressor({ level }), RangeError, `level ${level}`);
  }
  assert.throws(
    () => new XpressCompressor().compress(new Uint8Array(65537), new Uint8Array(70000)),
    RangeError,
  );
});

Deno.test("XpressCompressor.compress() stays within 1.03x of libwim's size at level 50", {
  ignore: !hasLibwim(),
}, () => {
  for (const [name, source] of [["binary", binary], ["text", text]] as const) {
    let ours = 0;
    let theirs = 0;
    const compressor = new XpressCompressor();
    const dst = new Uint8Array(32767);
    for (let pos = 0; pos + 32768 <= Math.min(source.length, 2 << 20); pos += 32768) {
      const chunk = source.subarray(pos, pos + 32768);
      ours += compressor.compress(chunk, dst) || chunk.length;
      theirs += libwimCompress("xpress", chunk)?.length ?? chunk.length;
    }
    assert.ok(ours <= theirs * 1.03, `${name}: ${ours} vs libwim ${theirs}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Properties

/** Random, repetitive and x86-like (E8-heavy) chunk contents up to 64 KiB. */
const chunkContents = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 65536 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 65536 }))
    .map(([unit, size]) => {
      const out = new Uint8Array(size);
      for (let p = 0; p < size; p += unit.length) out.set(unit.subarray(0, size - p), p);
      return out;
    }),
  fc.tuple(fc.integer({ min: 1, max: 65536 }), fc.integer()).map(([size, seed]) => {
    const out = sliceOf(binary, size, seed);
    for (let p = seed & 63; p + 5 <= size; p += 37) {
      out[p] = 0xe8;
      new DataView(out.buffer).setInt32(p + 1, (p * 7) & 0xffff, true);
    }
    return out;
  }),
  fc.tuple(fc.constantFrom(...KINDS), fc.integer({ min: 1, max: 65536 }), fc.integer())
    .map(([kind, size, seed]) => sample(kind, size, seed)),
);

Deno.test("XpressCompressor.compress() round-trips through XpressDecompressor", () => {
  const compressor = new XpressCompressor();
  const decompressor = new XpressDecompressor();
  fc.assert(
    fc.property(chunkContents, fc.integer({ min: 1, max: 100 }), (data, level) => {
      const dst = new Uint8Array(data.length + 1024);
      const size = new XpressCompressor({ level }).compress(data, dst);
      assert.ok(size > 0);
      const out = new Uint8Array(data.length);
      decompressor.decompress(dst.subarray(0, size), out);
      assertSameBytes(out, data, `level ${level}`);
      // The reused default compressor gives the same bytes as a fresh one at the default level.
      if (level === XPRESS_DEFAULT_LEVEL) assert.equal(compressor.compress(data, dst), size);
    }),
    { numRuns: 60 },
  );
});

Deno.test("XpressCompressor.compress() never writes more than dst holds", () => {
  const compressor = new XpressCompressor();
  fc.assert(
    fc.property(chunkContents, fc.double({ min: 0, max: 1.2, noNaN: true }), (data, fraction) => {
      const full = new Uint8Array(data.length + 1024);
      const needed = compressor.compress(data, full);
      const limit = Math.floor(needed * fraction);
      // A dst inside a larger buffer: bytes after it must stay untouched.
      const backing = new Uint8Array(limit + 64).fill(0x5a);
      const size = compressor.compress(data, backing.subarray(0, limit));
      assert.equal(size, needed <= limit ? needed : 0);
      assert.ok(backing.subarray(limit).every((b) => b === 0x5a));
      if (size > 0) assertSameBytes(decompress(backing.subarray(0, size), data.length), data, "");
    }),
    { numRuns: 60 },
  );
});

// ---------------------------------------------------------------------------------------------
// Garbage input, in a worker with a deadline (a hanging sync decoder cannot be interrupted)

/** Runs bounded fuzz properties; the test file doubles as the worker module. */
function fuzzDecoder(runs: number): void {
  const decompressor = new XpressDecompressor();
  const decodeChecked = (src: Uint8Array, size: number) => {
    // dst sits inside a larger buffer so that a write past its end would show.
    const backing = new Uint8Array(size + 32).fill(0x5a);
    try {
      decompressor.decompress(src, backing.subarray(0, size));
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
    if (!backing.subarray(size).every((b) => b === 0x5a)) throw new Error("wrote past dst");
  };
  // Random bytes, with a valid-looking code table half of the time so decoding gets going.
  const validTable = hex(XPRESS_VECTORS.random100!).subarray(0, 256);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 4096 }),
      fc.integer({ min: 1, max: 65536 }),
      fc.boolean(),
      (bytes, size, withTable) => {
        if (withTable && bytes.length >= 256) bytes.set(validTable);
        decodeChecked(bytes, size);
      },
    ),
    { numRuns: runs },
  );
  // Valid chunks with flipped bytes, truncated, or extended.
  const packed = [
    compress(sample("binary", 32768, 5)),
    compress(sample("text", 4096, 6)),
    compress(sample("repetitive", 65536, 7)),
  ];
  const sizes = [32768, 4096, 65536];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      fc.integer({ min: -2, max: 2 }),
      (which, flips, cut, sizeDelta) => {
        const chunk = packed[which]!.slice();
        for (const [at, mask] of flips) chunk[at % chunk.length]! ^= mask;
        const size = Math.min(65536, Math.max(1, sizes[which]! + sizeDelta));
        decodeChecked(chunk.subarray(0, cut % (chunk.length + 1)), size);
        decodeChecked(chunk, size);
      },
    ),
    { numRuns: runs },
  );
}

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";

if (inWorker) {
  const scope = self as unknown as Worker;
  scope.onmessage = (event: MessageEvent<number>) => {
    try {
      fuzzDecoder(event.data);
      scope.postMessage({ ok: true });
    } catch (error) {
      scope.postMessage({ ok: false, message: String((error as Error)?.stack ?? error) });
    }
  };
}

Deno.test("XpressDecompressor.decompress() gives CodecError or exactly dst on garbage", async () => {
  const worker = new Worker(import.meta.url, { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  worker.postMessage(400);
  try {
    const result = await Promise.race([
      new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(event.message));
        };
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("decoder fuzz did not finish in 120 s")),
          120_000,
        );
      }),
    ]);
    assert.ok(result.ok, result.message);
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
});
