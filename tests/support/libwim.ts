/**
 * The codec oracle: wimlib's own compressors and decompressors (libwim.so.15 from Debian's
 * `libwim15`, installed with `wimtools`), called through FFI. Tests compress with wimlib and
 * decode with wimkit, and the other way round.
 */

/** wimlib's compression type numbers. */
export type LibwimCodec = "xpress" | "lzx" | "lzms";
const CODEC_IDS: Record<LibwimCodec, number> = { xpress: 1, lzx: 2, lzms: 3 };

const LIBRARY_PATHS = ["libwim.so.15", "/usr/lib/x86_64-linux-gnu/libwim.so.15"];

function openLibrary() {
  for (const path of LIBRARY_PATHS) {
    try {
      return Deno.dlopen(path, {
        wimlib_create_compressor: { parameters: ["i32", "usize", "u32", "buffer"], result: "i32" },
        wimlib_compress: {
          parameters: ["buffer", "usize", "buffer", "usize", "pointer"],
          result: "usize",
        },
        wimlib_free_compressor: { parameters: ["pointer"], result: "void" },
        wimlib_create_decompressor: { parameters: ["i32", "usize", "buffer"], result: "i32" },
        wimlib_decompress: {
          parameters: ["buffer", "usize", "buffer", "usize", "pointer"],
          result: "i32",
        },
        wimlib_free_decompressor: { parameters: ["pointer"], result: "void" },
      });
    } catch {
      // try the next path
    }
  }
  return null;
}

let library: ReturnType<typeof openLibrary> | undefined;

/** The loaded library, or null when libwim is not installed (tests then report as ignored). */
export function libwim(): NonNullable<ReturnType<typeof openLibrary>> | null {
  if (library === undefined) library = openLibrary();
  return library;
}

/** True when libwim can be loaded: use as `Deno.test({ ignore: !hasLibwim() }, ...)`. */
export function hasLibwim(): boolean {
  try {
    return libwim() !== null;
  } catch {
    return false;
  }
}

function pointerFrom(out: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(out[0]!);
}

/**
 * Compresses `data` as one chunk with wimlib; returns null when wimlib cannot make it smaller
 * than `limit` bytes (default `data.length - 1`, as a WIM writer calls it).
 */
export function libwimCompress(
  codec: LibwimCodec,
  data: Uint8Array,
  options: { maxBlockSize?: number; level?: number; limit?: number } = {},
): Uint8Array | null {
  const lib = libwim();
  if (!lib) throw new Error("libwim is not available");
  const handle = new BigUint64Array(1);
  const maxBlock = options.maxBlockSize ?? Math.max(data.length, 32768);
  const rc = lib.symbols.wimlib_create_compressor(
    CODEC_IDS[codec],
    BigInt(maxBlock),
    options.level ?? 50,
    new Uint8Array(handle.buffer),
  );
  if (rc !== 0) throw new Error(`wimlib_create_compressor failed: ${rc}`);
  const compressor = pointerFrom(handle);
  try {
    const limit = options.limit ?? data.length - 1;
    const out = new Uint8Array(Math.max(limit, 1));
    const size = Number(
      lib.symbols.wimlib_compress(
        data as Uint8Array<ArrayBuffer>,
        BigInt(data.length),
        out,
        BigInt(limit),
        compressor,
      ),
    );
    return size === 0 ? null : out.slice(0, size);
  } finally {
    lib.symbols.wimlib_free_compressor(compressor);
  }
}

/** Decompresses one chunk with wimlib; returns null when wimlib rejects it. */
export function libwimDecompress(
  codec: LibwimCodec,
  compressed: Uint8Array,
  uncompressedSize: number,
  maxBlockSize = Math.max(uncompressedSize, 32768),
): Uint8Array | null {
  const lib = libwim();
  if (!lib) throw new Error("libwim is not available");
  const handle = new BigUint64Array(1);
  const rc = lib.symbols.wimlib_create_decompressor(
    CODEC_IDS[codec],
    BigInt(maxBlockSize),
    new Uint8Array(handle.buffer),
  );
  if (rc !== 0) throw new Error(`wimlib_create_decompressor failed: ${rc}`);
  const decompressor = pointerFrom(handle);
  try {
    const out = new Uint8Array(uncompressedSize);
    const status = lib.symbols.wimlib_decompress(
      compressed as Uint8Array<ArrayBuffer>,
      BigInt(compressed.length),
      out,
      BigInt(uncompressedSize),
      decompressor,
    );
    return status === 0 ? out : null;
  } finally {
    lib.symbols.wimlib_free_decompressor(decompressor);
  }
}
