/** Creates the chunk decompressor for a compression type. */

import type { ChunkCompressor, ChunkDecompressor, CompressionType } from "./codec.ts";
import { XpressCompressor } from "./xpress_compress.ts";
import { LzxCompressor } from "./lzx_compress.ts";
import { LzmsCompressor } from "./lzms_compress.ts";
import { XpressDecompressor } from "./xpress_decompress.ts";
import { LzxDecompressor } from "./lzx_decompress.ts";
import { LzmsDecompressor } from "./lzms_decompress.ts";

/** A codec that decodes chunks; "none" copies. */
export type ChunkCodec = Exclude<CompressionType, "none">;

/**
 * Returns a new decompressor for `type`; `chunkSize` is the resource's chunk size (LZX derives
 * its window from it).
 *
 * @example
 * ```ts
 * import { createDecompressor } from "./registry.ts";
 * import assert from "node:assert/strict";
 * const decoder = createDecompressor("lzx", 32768);
 * assert.ok(typeof decoder.decompress === "function");
 * ```
 */
export function createDecompressor(type: ChunkCodec, chunkSize: number): ChunkDecompressor {
  switch (type) {
    case "xpress":
      return new XpressDecompressor();
    case "lzx":
      return new LzxDecompressor(chunkSize);
    case "lzms":
      return new LzmsDecompressor();
  }
}

/**
 * Keeps one decompressor per (codec, chunk size) so tables and windows are reused across chunks.
 *
 * @example
 * ```ts
 * import { DecompressorCache } from "./registry.ts";
 * import assert from "node:assert/strict";
 * const cache = new DecompressorCache();
 * assert.ok(cache.get("xpress", 32768) === cache.get("xpress", 32768));
 * ```
 */
export class DecompressorCache {
  readonly #decoders = new Map<string, ChunkDecompressor>();

  /** The cached decompressor for `type` at `chunkSize`. */
  get(type: ChunkCodec, chunkSize: number): ChunkDecompressor {
    const key = type === "lzx" ? `lzx:${chunkSize}` : type;
    let decoder = this.#decoders.get(key);
    if (!decoder) {
      decoder = createDecompressor(type, chunkSize);
      this.#decoders.set(key, decoder);
    }
    return decoder;
  }
}

/**
 * Returns a new compressor for `type` at wimlib's `level` scale (0 = each codec's default);
 * `chunkSize` is the chunk size it will be given (LZX sizes its window from it).
 *
 * @example
 * ```ts
 * import { createCompressor } from "./registry.ts";
 * import assert from "node:assert/strict";
 * const encoder = createCompressor("xpress", 32768, 50);
 * assert.ok(typeof encoder.compress === "function");
 * ```
 */
export function createCompressor(
  type: ChunkCodec,
  chunkSize: number,
  level: number,
): ChunkCompressor {
  const options = level > 0 ? { level } : {};
  switch (type) {
    case "xpress":
      return new XpressCompressor(options);
    case "lzx":
      return new LzxCompressor({ chunkSize, ...options });
    case "lzms":
      return new LzmsCompressor(options);
  }
}
