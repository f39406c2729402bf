/**
 * XPRESS (LZ77+Huffman, the [MS-XCA] variant WIM uses) chunk decompressor.
 *
 * A chunk is 256 bytes of 4-bit code lengths for 512 symbols (low nibble first), then a stream of
 * 16-bit little-endian words read MSB first, with whole bytes interleaved for long match lengths
 * (wim-codecs.md §2). Symbols 0-255 are literals; 256-511 are matches whose low nibble is the
 * length header and high nibble the offset's bit count.
 *
 * The quirk everything hinges on (§2.4): length bytes are taken from the input right after the
 * last word pulled into the bit buffer, and the reader pulls a word whenever fewer than 16 bits are
 * left. This decoder keeps exactly that discipline (one refill check after each consumption), so
 * the byte position is always the one WIMGAPI and wimlib agree on.
 *
 * Trade-offs: words past the end of the input read as zero (both reference readers pull the last
 * words speculatively); length bytes past the end, offsets before the start of the chunk and
 * matches past its end are rejected with {@linkcode CodecError}. Trailing data after the last byte
 * (the end-marker symbol 256, padding) is not inspected. Every loop iteration writes at least one
 * byte, so garbage input cannot make it spin.
 */

import { CodecError } from "../errors.ts";
import type { ChunkDecompressor } from "./codec.ts";
import { buildDecodeTable, decodeTableSize, SUBTABLE_FLAG } from "./huffman.ts";

/** Number of symbols in the XPRESS Huffman code (256 literals + 256 match headers). */
const XPRESS_SYMBOL_COUNT = 512;
/** Longest XPRESS codeword in bits. */
const XPRESS_MAX_CODEWORD_LENGTH = 15;
/** Bytes of packed code lengths at the start of every chunk. */
const XPRESS_TABLE_BYTES = 256;
/** Largest chunk (uncompressed bytes) the format can address: offsets are at most 65535. */
export const XPRESS_MAX_CHUNK_SIZE = 65536;

/** Bits looked up in the first level of the decode table (longer codes use sub-tables). */
const ROOT_BITS = 10;
const ROOT_MASK = (1 << ROOT_BITS) - 1;

/**
 * Decodes XPRESS chunks; one object reuses its tables for every chunk.
 *
 * @example Decode a chunk made by an XPRESS compressor
 * ```ts
 * import { XpressCompressor } from "./xpress_compress.ts";
 * import { XpressDecompressor } from "./xpress_decompress.ts";
 * import assert from "node:assert/strict";
 * const data = new TextEncoder().encode("abc".repeat(200));
 * const packed = new Uint8Array(data.length - 1);
 * const size = new XpressCompressor().compress(data, packed);
 * const out = new Uint8Array(data.length);
 * new XpressDecompressor().decompress(packed.subarray(0, size), out);
 * assert.deepEqual(out, data);
 * ```
 */
export class XpressDecompressor implements ChunkDecompressor {
  #lengths = new Uint8Array(XPRESS_SYMBOL_COUNT);
  #decodeTable = new Uint32Array(
    decodeTableSize(XPRESS_SYMBOL_COUNT, ROOT_BITS, XPRESS_MAX_CODEWORD_LENGTH),
  );
  #counts = new Uint16Array(XPRESS_MAX_CODEWORD_LENGTH + 1);
  #offsets = new Uint16Array(XPRESS_MAX_CODEWORD_LENGTH + 2);
  #sorted = new Uint16Array(XPRESS_SYMBOL_COUNT);

  /**
   * Decodes the XPRESS chunk `src` into all of `dst` (`dst.length` is the uncompressed size).
   *
   * @throws {CodecError} If `src` is not a valid XPRESS chunk of `dst.length` bytes.
   */
  decompress(src: Uint8Array, dst: Uint8Array): void {
    const outEnd = dst.length;
    if (outEnd > XPRESS_MAX_CHUNK_SIZE) {
      throw new RangeError(
        `Cannot decompress XPRESS chunk: size is ${outEnd} bytes, at most ${XPRESS_MAX_CHUNK_SIZE}`,
      );
    }
    const srcEnd = src.length;
    if (srcEnd < XPRESS_TABLE_BYTES) {
      throw new CodecError(
        `Cannot decompress XPRESS chunk: ${srcEnd} bytes is shorter than the ${XPRESS_TABLE_BYTES}-byte code table`,
      );
    }
    if (outEnd === 0) return;

    const lengths = this.#lengths;
    let used = 0;
    for (let i = 0; i < XPRESS_TABLE_BYTES; i++) {
      const b = src[i]!;
      lengths[2 * i] = b & 15;
      lengths[2 * i + 1] = b >> 4;
      used |= b;
    }
    const table = this.#decodeTable;
    if (
      used === 0 ||
      !buildDecodeTable(
        lengths,
        XPRESS_SYMBOL_COUNT,
        ROOT_BITS,
        XPRESS_MAX_CODEWORD_LENGTH,
        table,
        this.#counts,
        this.#offsets,
        this.#sorted,
      )
    ) {
      throw new CodecError(
        "Cannot decompress XPRESS chunk: the code lengths are not a complete code",
      );
    }

    // Bit buffer: the low `bitCount` bits of `bitBuf` are unconsumed, 16 <= bitCount <= 31 between
    // operations. Words past the end of the input read as zero.
    const lastWordPos = srcEnd - 2;
    let pos = XPRESS_TABLE_BYTES;
    let bitBuf = 0;
    for (let i = 0; i < 2; i++) {
      if (pos <= lastWordPos) bitBuf = (bitBuf << 16) | src[pos]! | (src[pos + 1]! << 8);
      else bitBuf <<= 16;
      pos += 2;
    }
    let bitCount = 32;
    let out = 0;

    while (out < outEnd) {
      // Decode one symbol: at most 15 bits, and at least 16 are available.
      let entry = table[(bitBuf >>> (bitCount - ROOT_BITS)) & ROOT_MASK]!;
      if ((entry & SUBTABLE_FLAG) !== 0) {
        bitCount -= ROOT_BITS;
        const subBits = entry & 0x7f;
        entry = table[(entry >>> 8) + ((bitBuf >>> (bitCount - subBits)) & ((1 << subBits) - 1))]!;
      }
      bitCount -= entry & 0xff;
      if (bitCount < 16) {
        if (pos <= lastWordPos) bitBuf = (bitBuf << 16) | src[pos]! | (src[pos + 1]! << 8);
        else bitBuf <<= 16;
        pos += 2;
        bitCount += 16;
      }
      const sym = entry >>> 8;
      if (sym < 256) {
        dst[out++] = sym;
        continue;
      }

      // Match: length bytes come first (at `pos`), then the offset bits.
      let length = sym & 15;
      const offsetBits = (sym >> 4) & 15;
      if (length === 15) {
        if (pos >= srcEnd) throw truncated();
        length = src[pos++]!;
        if (length === 255) {
          if (pos + 2 > srcEnd) throw truncated();
          length = src[pos]! | (src[pos + 1]! << 8);
          pos += 2;
          if (length === 0) {
            if (pos + 4 > srcEnd) throw truncated();
            length = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) |
              (src[pos + 3]! << 24)) >>> 0;
            pos += 4;
          }
        } else {
          length += 15;
        }
      }
      length += 3;
      let offset = 1 << offsetBits;
      if (offsetBits !== 0) {
        bitCount -= offsetBits;
        offset |= (bitBuf >>> bitCount) & (offset - 1);
        if (bitCount < 16) {
          if (pos <= lastWordPos) bitBuf = (bitBuf << 16) | src[pos]! | (src[pos + 1]! << 8);
          else bitBuf <<= 16;
          pos += 2;
          bitCount += 16;
        }
      }
      if (offset > out) {
        throw new CodecError(
          `Cannot decompress XPRESS chunk: match offset ${offset} at output position ${out} points before the start`,
        );
      }
      if (length > outEnd - out) {
        throw new CodecError(
          `Cannot decompress XPRESS chunk: match of ${length} bytes at output position ${out} runs past the end (${outEnd} bytes)`,
        );
      }
      const end = out + length;
      let from = out - offset;
      if (length >= 32) {
        if (offset >= length) {
          dst.copyWithin(out, from, from + length);
          out = end;
          continue;
        }
        if (offset === 1) {
          dst.fill(dst[from]!, out, end);
          out = end;
          continue;
        }
      }
      while (out < end) dst[out++] = dst[from++]!;
    }
  }
}

function truncated(): CodecError {
  return new CodecError("Cannot decompress XPRESS chunk: the input ends inside a match length");
}
