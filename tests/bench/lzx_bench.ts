/**
 * LZX decode speed: wimkit's LzxDecompressor against wimlib's decompressor (FFI) on the same
 * 32 KiB chunks of real x86-64 binaries (E8-heavy) and of text, compressed by wimlib at level 50.
 *
 * Run: `deno bench --allow-all tests/bench/lzx_bench.ts`. Each iteration decodes every chunk of
 * a set once (1 MiB of output for the binaries); needs libwim to make the chunks.
 */

import { LzxDecompressor } from "../../lib/codecs/lzx_decompress.ts";
import { hasLibwim, libwim, libwimCompress } from "../support/libwim.ts";

const CHUNK_SIZE = 32768;
const BINARY_FILES = ["/usr/bin/gdb", "/usr/bin/ctest", "/usr/lib/x86_64-linux-gnu/libwim.so.15"];

function readOrEmpty(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch {
    return new Uint8Array(0);
  }
}

/** Compresses up to `count` chunks of `data` (skipping ones wimlib would store raw). */
function chunksOf(data: Uint8Array, count: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let off = 0; off + CHUNK_SIZE <= data.length && chunks.length < count; off += CHUNK_SIZE) {
    const compressed = libwimCompress("lzx", data.subarray(off, off + CHUNK_SIZE), {
      maxBlockSize: CHUNK_SIZE,
      level: 50,
    });
    if (compressed) chunks.push(compressed);
  }
  return chunks;
}

function binaryChunks(): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const path of BINARY_FILES) {
    chunks.push(...chunksOf(readOrEmpty(path).subarray(65536), 32 - chunks.length));
  }
  return chunks;
}

/** English-like text: words from a small vocabulary picked by a fixed pseudo-random sequence. */
function textChunks(): Uint8Array[] {
  const words = ["image", "resource", "chunk", "the", "of", "and", "window", "block", "file", "\n"];
  const parts: string[] = [];
  let state = 12345;
  for (let size = 0; size < 32 * CHUNK_SIZE;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const word = words[(state >>> 16) % words.length]!;
    parts.push(word, " ");
    size += word.length + 1;
  }
  return chunksOf(new TextEncoder().encode(parts.join("")), 32);
}

function libwimDecoder(): (src: Uint8Array, dst: Uint8Array) => void {
  const lib = libwim()!;
  const handle = new BigUint64Array(1);
  const rc = lib.symbols.wimlib_create_decompressor(
    2,
    BigInt(CHUNK_SIZE),
    new Uint8Array(handle.buffer),
  );
  if (rc !== 0) throw new Error(`wimlib_create_decompressor failed: ${rc}`);
  const decompressor = Deno.UnsafePointer.create(handle[0]!);
  return (src, dst) => {
    const status = lib.symbols.wimlib_decompress(
      src as Uint8Array<ArrayBuffer>,
      BigInt(src.length),
      dst as Uint8Array<ArrayBuffer>,
      BigInt(dst.length),
      decompressor,
    );
    if (status !== 0) throw new Error("wimlib rejected a chunk");
  };
}

if (hasLibwim()) {
  const sets: Array<[string, Uint8Array[]]> = [["x86 binaries", binaryChunks()], [
    "text",
    textChunks(),
  ]];
  const dst = new Uint8Array(CHUNK_SIZE);
  const wimkit = new LzxDecompressor(CHUNK_SIZE);
  const wimlib = libwimDecoder();
  for (const [name, chunks] of sets) {
    const n = `${chunks.length} x 32 KiB`;
    Deno.bench({
      name: `wimlib LZX decode, ${name} (${n})`,
      group: name,
      baseline: true,
      fn() {
        for (const chunk of chunks) wimlib(chunk, dst);
      },
    });
    Deno.bench({
      name: `LzxDecompressor.decompress(), ${name} (${n})`,
      group: name,
      fn() {
        for (const chunk of chunks) wimkit.decompress(chunk, dst);
      },
    });
  }
}
