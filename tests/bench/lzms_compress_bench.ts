/**
 * LZMS encode speed: wimkit's LzmsCompressor against wimlib's compressor (FFI, the baseline) on
 * 128 KiB chunks of x86 binaries (Windows PE DLLs when present, else Linux binaries), default
 * level 50. Sizes are printed once so a run also shows the ratio.
 */

import { LzmsCompressor } from "../../lib/codecs/lzms_compress.ts";
import { hasLibwim, libwim } from "../support/libwim.ts";

const CHUNK_SIZE = 131072;
const LEVEL = 50;
const WINE_DIR = "/tmp/wine/x/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/";
const BINARIES = [
  `${WINE_DIR}shell32.dll`,
  `${WINE_DIR}kernelbase.dll`,
  `${WINE_DIR}msxml3.dll`,
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
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
    for (let at = 0; at + CHUNK_SIZE <= data.length && chunks.length < 8; at += 2 * CHUNK_SIZE) {
      chunks.push(data.subarray(at, at + CHUNK_SIZE));
    }
  }
  return chunks;
}

const chunks = loadChunks();
const dst = new Uint8Array(CHUNK_SIZE);
const compressor = new LzmsCompressor({ level: LEVEL });

function encodeAll(): number {
  let total = 0;
  for (const chunk of chunks) {
    total += compressor.compress(chunk, dst.subarray(0, chunk.length - 1)) || chunk.length;
  }
  return total;
}

Deno.bench({
  name: `wimkit LzmsCompressor, ${chunks.length} × 128 KiB`,
  group: "lzms encode 128 KiB",
  fn() {
    encodeAll();
  },
});

if (hasLibwim()) {
  const lib = libwim()!;
  const handle = new BigUint64Array(1);
  lib.symbols.wimlib_create_compressor(
    3,
    BigInt(CHUNK_SIZE),
    LEVEL,
    new Uint8Array(handle.buffer),
  );
  const wimlibCompressor = Deno.UnsafePointer.create(handle[0]!);
  const encodeAllWimlib = (): number => {
    let total = 0;
    for (const chunk of chunks) {
      const size = lib.symbols.wimlib_compress(
        chunk as Uint8Array<ArrayBuffer>,
        BigInt(chunk.length),
        dst,
        BigInt(chunk.length - 1),
        wimlibCompressor,
      );
      total += Number(size) || chunk.length;
    }
    return total;
  };
  const input = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  // deno-lint-ignore no-console
  console.log(`lzms sizes: input ${input}, wimkit ${encodeAll()}, wimlib ${encodeAllWimlib()}`);
  Deno.bench({
    name: `wimlib lzms compress (FFI), ${chunks.length} × 128 KiB`,
    group: "lzms encode 128 KiB",
    baseline: true,
    fn() {
      encodeAllWimlib();
    },
  });
}
