/**
 * The chunk codec contract shared by XPRESS, LZX and LZMS.
 *
 * A WIM resource is cut into chunks that are compressed independently (wim-codecs.md §1.1). A
 * decompressor object owns its tables and window and reuses them, so decoding a chunk allocates
 * nothing. A compressor returns 0 when it cannot make the chunk fit in `dst`; WIM writers pass a
 * `dst` of `src.length - 1` bytes and store the chunk raw on 0.
 */

/** The compression formats a chunk can use. */
export type CompressionType = "none" | "xpress" | "lzx" | "lzms";

/** Decodes one chunk into a caller's buffer of exactly the chunk's uncompressed size. */
export interface ChunkDecompressor {
  /**
   * Decodes `src` into all of `dst`.
   *
   * @throws {CodecError} If `src` is not a valid chunk of `dst.length` bytes.
   */
  decompress(src: Uint8Array, dst: Uint8Array): void;
}

/** Encodes one chunk into a caller's buffer. */
export interface ChunkCompressor {
  /** Encodes `src` into `dst`; returns the compressed size, or 0 if it does not fit in `dst`. */
  compress(src: Uint8Array, dst: Uint8Array): number;
}
