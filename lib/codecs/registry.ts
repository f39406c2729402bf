/** Creates the chunk decompressor for a compression type. */

import type { ChunkDecompressor, CompressionType } from "./codec.ts";
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
 * const decoder = createDecompressor("lzx", 32768);
 * console.assert(typeof decoder.decompress === "function");
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
 * const cache = new DecompressorCache();
 * console.assert(cache.get("xpress", 32768) === cache.get("xpress", 32768));
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
