/**
 * LZMS decode speed: wimkit's LzmsDecompressor against wimlib's decompressor (FFI) on 128 KiB
 * chunks of real x86 binaries compressed by wimlib at the default level.
 */

import { LzmsDecompressor } from "../../lib/codecs/lzms_decompress.ts";
import { hasLibwim, libwim, libwimCompress } from "../support/libwim.ts";

const CHUNK_SIZE = 131072;
const BINARIES = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/bin/perf",
  "/usr/lib/x86_64-linux-gnu/libwim.so.15",
  "/usr/bin/bash",
];

function loadChunks(): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const path of BINARIES) {
    let data: Uint8Array;
    try {
      data = Deno.readFileSync(path);
    } catch {
      continue;
    }
    for (let at = 0; at + CHUNK_SIZE <= data.length && chunks.length < 32; at += 3 * CHUNK_SIZE) {
      const compressed = libwimCompress("lzms", data.subarray(at, at + CHUNK_SIZE), { level: 50 });
      if (compressed) chunks.push(compressed);
    }
  }
  return chunks;
}

if (hasLibwim()) {
  const chunks = loadChunks();
  const out = new Uint8Array(CHUNK_SIZE);
  const decompressor = new LzmsDecompressor();
  const lib = libwim()!;
  const handle = new BigUint64Array(1);
  lib.symbols.wimlib_create_decompressor(3, BigInt(CHUNK_SIZE), new Uint8Array(handle.buffer));
  const wimlibDecompressor = Deno.UnsafePointer.create(handle[0]!);
  const group = `LZMS decode, ${chunks.length} × 128 KiB of x86 binaries`;

  Deno.bench({ name: "wimlib (FFI)", group, baseline: true }, () => {
    for (const chunk of chunks) {
      lib.symbols.wimlib_decompress(
        chunk as Uint8Array<ArrayBuffer>,
        BigInt(chunk.length),
        out,
        BigInt(CHUNK_SIZE),
        wimlibDecompressor,
      );
    }
  });

  Deno.bench({ name: "LzmsDecompressor", group }, () => {
    for (const chunk of chunks) decompressor.decompress(chunk, out);
  });
}
