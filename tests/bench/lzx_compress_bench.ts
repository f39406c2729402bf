/**
 * LZX encode speed: wimkit's LzxCompressor against wimlib's compressor (FFI) on the same 32 KiB
 * chunks of x86-64 PE binaries (Wine DLLs under /tmp/wine when present, else the Deno executable).
 *
 * Run: `deno bench --allow-all tests/bench/lzx_compress_bench.ts`. Each iteration compresses
 * every chunk of the set once; needs libwim for the baseline.
 */

import { LzxCompressor } from "../../lib/codecs/lzx_compress.ts";
import { hasLibwim, libwim } from "../support/libwim.ts";

const CHUNK_SIZE = 32768;
const WINE_DIR = "/tmp/wine/x/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/";
const WINE_DLLS = ["kernelbase.dll", "ntdll.dll", "user32.dll", "ole32.dll"];

function readOrNull(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch {
    return null;
  }
}

/** Up to 32 chunks: 8 from each Wine DLL, or 32 from the middle of the Deno executable. */
function peChunks(): { name: string; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  const dlls = WINE_DLLS.map((name) => readOrNull(WINE_DIR + name));
  if (dlls.every((dll) => dll !== null)) {
    for (const dll of dlls) {
      for (let k = 0; k < 8 && (k + 1) * CHUNK_SIZE <= dll!.length; k++) {
        chunks.push(dll!.subarray(k * CHUNK_SIZE, (k + 1) * CHUNK_SIZE));
      }
    }
    return { name: "Wine PE DLLs", chunks };
  }
  const deno = Deno.readFileSync(Deno.execPath());
  for (let k = 0; k < 32; k++) {
    chunks.push(deno.subarray((1 << 20) + k * CHUNK_SIZE, (1 << 20) + (k + 1) * CHUNK_SIZE));
  }
  return { name: "Deno executable", chunks };
}

function libwimEncoder(level: number): (src: Uint8Array, dst: Uint8Array) => number {
  const lib = libwim()!;
  const handle = new BigUint64Array(1);
  const rc = lib.symbols.wimlib_create_compressor(
    2,
    BigInt(CHUNK_SIZE),
    level,
    new Uint8Array(handle.buffer),
  );
  if (rc !== 0) throw new Error(`wimlib_create_compressor failed: ${rc}`);
  const compressor = Deno.UnsafePointer.create(handle[0]!);
  return (src, dst) =>
    Number(
      lib.symbols.wimlib_compress(
        src as Uint8Array<ArrayBuffer>,
        BigInt(src.length),
        dst as Uint8Array<ArrayBuffer>,
        BigInt(dst.length),
        compressor,
      ),
    );
}

const { name, chunks } = peChunks();
const dst = new Uint8Array(CHUNK_SIZE - 1);
const group = `${name}, ${chunks.length} x 32 KiB`;
if (hasLibwim()) {
  const wimlib = libwimEncoder(50);
  Deno.bench({
    name: "wimlib LZX encode, level 50",
    group,
    baseline: true,
    fn() {
      for (const chunk of chunks) wimlib(chunk, dst);
    },
  });
}
for (const level of [20, 50, 100]) {
  const compressor = new LzxCompressor({ level });
  Deno.bench({
    name: `LzxCompressor.compress(), level ${level}`,
    group,
    fn() {
      for (const chunk of chunks) compressor.compress(chunk, dst);
    },
  });
}
