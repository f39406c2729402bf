/**
 * XPRESS micro-benchmarks: decode and encode 32 KiB chunks of x86-64 machine code, wimkit against
 * wimlib (libwim through FFI, the baseline). Each iteration handles 16 chunks (512 KiB), so
 * MB/s = 0.524 / (time per iteration in ms) * 1000.
 *
 * Run: deno bench --allow-all tests/bench/xpress_bench.ts
 */

import { XpressCompressor } from "../../lib/codecs/xpress_compress.ts";
import { XpressDecompressor } from "../../lib/codecs/xpress_decompress.ts";
import { hasLibwim, libwim } from "../support/libwim.ts";

const CHUNK_SIZE = 32768;
const CHUNKS_PER_ITERATION = 16;
const XPRESS = 1;

/** 16 consecutive 32 KiB chunks from the middle of the Deno executable (code, not padding). */
const chunks: Uint8Array[] = (() => {
  const file = Deno.readFileSync(Deno.execPath());
  const start = Math.floor(file.length / 3 / CHUNK_SIZE) * CHUNK_SIZE;
  const out: Uint8Array[] = [];
  for (let i = 0; i < CHUNKS_PER_ITERATION; i++) {
    out.push(file.slice(start + i * CHUNK_SIZE, start + (i + 1) * CHUNK_SIZE));
  }
  return out;
})();

const compressor = new XpressCompressor();
const decompressor = new XpressDecompressor();
const dst = new Uint8Array(CHUNK_SIZE - 1);
const out = new Uint8Array(CHUNK_SIZE);

/** wimkit's compressed chunks (raw chunks are skipped by both decoders). */
const packed: Uint8Array<ArrayBuffer>[] = [];
for (const chunk of chunks) {
  const size = compressor.compress(chunk, dst);
  if (size !== 0) packed.push(dst.slice(0, size));
}

const lib = hasLibwim() ? libwim() : null;

function createHandle(create: (handle: Uint8Array<ArrayBuffer>) => number): Deno.PointerValue {
  const handle = new BigUint64Array(1);
  const rc = create(new Uint8Array(handle.buffer));
  if (rc !== 0) throw new Error(`wimlib returned ${rc}`);
  return Deno.UnsafePointer.create(handle[0]!);
}

const libCompressor = lib
  ? createHandle((h) => lib.symbols.wimlib_create_compressor(XPRESS, BigInt(CHUNK_SIZE), 50, h))
  : null;
const libDecompressor = lib
  ? createHandle((h) => lib.symbols.wimlib_create_decompressor(XPRESS, BigInt(CHUNK_SIZE), h))
  : null;

Deno.bench({
  name: "wimlib decode",
  group: "xpress decode 16 x 32 KiB",
  baseline: true,
  ignore: lib === null,
  fn() {
    for (const chunk of packed) {
      const rc = lib!.symbols.wimlib_decompress(
        chunk,
        BigInt(chunk.length),
        out,
        BigInt(CHUNK_SIZE),
        libDecompressor,
      );
      if (rc !== 0) throw new Error("wimlib rejected a chunk");
    }
  },
});

Deno.bench({
  name: "wimkit decode",
  group: "xpress decode 16 x 32 KiB",
  fn() {
    for (const chunk of packed) decompressor.decompress(chunk, out);
  },
});

Deno.bench({
  name: "wimlib encode (level 50)",
  group: "xpress encode 16 x 32 KiB",
  baseline: true,
  ignore: lib === null,
  fn() {
    for (const chunk of chunks) {
      lib!.symbols.wimlib_compress(
        chunk as Uint8Array<ArrayBuffer>,
        BigInt(chunk.length),
        dst,
        BigInt(dst.length),
        libCompressor,
      );
    }
  },
});

Deno.bench({
  name: "wimkit encode (level 50, lazy)",
  group: "xpress encode 16 x 32 KiB",
  fn() {
    for (const chunk of chunks) compressor.compress(chunk, dst);
  },
});

const greedy = new XpressCompressor({ level: 20 });
Deno.bench({
  name: "wimkit encode (level 20, greedy)",
  group: "xpress encode 16 x 32 KiB",
  fn() {
    for (const chunk of chunks) greedy.compress(chunk, dst);
  },
});
