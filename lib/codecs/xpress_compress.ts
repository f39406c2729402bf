/**
 * XPRESS (LZ77+Huffman, the [MS-XCA] variant WIM uses) chunk compressor.
 *
 * The output is what wim-codecs.md §2.6 asks for: 256 bytes of 4-bit code lengths, then the items
 * as 16-bit words with length bytes interleaved, then symbol 256 as an end marker (WIMGAPI expects
 * one after the data), then the last partial word padded with zeros and one spare zero word.
 *
 * The bit writer keeps two 16-bit slots reserved ahead of the byte position and fills the older one
 * only when a 17th pending bit arrives (§2.4); flushing at exactly 16 bits would put length bytes
 * one word late whenever a match symbol ends on a word boundary.
 *
 * Parsing follows wimlib's level scale: below 30 greedy, otherwise lazy (one position of
 * look-ahead at a quarter of the search depth, skipped for matches of 8 bytes or more below level
 * 60). Matches of 4 bytes and more come from hash chains over 4-byte prefixes (16-bit hash),
 * limited to a chain depth and a "nice" length that grow with the level (wimlib's formulas);
 * length-3 matches come from a one-entry table per 3-byte hash (12 bits: only near ones are kept)
 * and are dropped when farther than 2 KiB (4 KiB in chunks over 8 KiB), where they cost more than
 * three literals (they are still worth 2.7% of the size on PE code). Levels of 60 and above only
 * search deeper: there is no near-optimal parser (wimlib's is about 2.5% smaller at 4x the time).
 * Symbol frequencies are counted as the parse emits items, and the exact output size is computed
 * from the Huffman code before anything is written, so a chunk that does not fit costs no writing.
 *
 * Speed: the time goes to memory latency in the chain walk and the table updates, not to the
 * depth (depth 28 and 46 run at the same speed), so the parse is one loop with the search written
 * out, reading the chunk 4 bytes at a time through a DataView over a padded private copy.
 * Measured (2-core EPYC VM, Deno 2.9.6, single thread, best of 7 passes alternating with wimlib
 * 1.13.6 through FFI), 407 chunks of 32 KiB (every 16th of the 200 MiB PE DLL bench corpus):
 *
 * | version | MB/s | time vs wimlib L50 | size vs wimlib L50 |
 * |---|---|---|---|
 * | wimlib level 50 | 118 | 1 | 1 |
 * | before (separate search function, look-ahead below 16 at half depth) | 62 | 1.90 | 1.0012 |
 * | level 50 (wimlib's default) | 79 | 1.50 | 1.0020 |
 * | level 30, look-ahead below 8 | 83 | 1.42 | 1.0036 |
 * | level 30 (wimkit's default: lazy, depth 28, look-ahead below 6) | | 1.34-1.43 | 1.0051 |
 * | level 20 (greedy) | 84 | 1.40 | 1.011 |
 *
 * (The look-ahead row: every 4th chunk, best of 9 passes, three runs; the VM's speed varied by 20%
 * between runs, so read ranges.) The default is level 30, not wimlib's 50: along the measured
 * curve (depth 46 → 28 → 16 costs 1.49x → 1.42x → 1.34x wimlib's time at 1.0017 → 1.0036 → 1.0062
 * its size) it is the knee, 5% faster for 0.2% of size. `--compress=xpress:50` asks for wimlib's
 * parse. The same parse written in C and compiled to WebAssembly (clang 14, -O3) ran no faster
 * than this JavaScript (77 vs 79 MB/s): V8 already compiles the loop well, and the rest of
 * wimlib's lead is native code.
 */

import type { ChunkCompressor } from "./codec.ts";
import { buildCodeLengths, buildCodewords } from "./huffman.ts";

const SYMBOL_COUNT = 512;
const MAX_CODEWORD_LENGTH = 15;
const TABLE_BYTES = 256;
const MAX_CHUNK_SIZE = 65536;
const MIN_MATCH_LENGTH = 3;
/** The end-of-data marker: the symbol of a match of length 3 at offset 1. */
const END_OF_DATA_SYMBOL = 256;
/** The smallest possible chunk: the table plus the two start words. */
const MIN_COMPRESSED_BYTES = TABLE_BYTES + 4;

/** Hash chains index 4-byte prefixes; a one-entry table per 3-byte prefix finds length-3 matches. */
const HASH4_BITS = 16;
const HASH4_SHIFT = 32 - HASH4_BITS;
const HASH3_BITS = 12;
const HASH3_SHIFT = 32 - HASH3_BITS;
const HASH_MULTIPLIER = 0x1e35a7bd;
/**
 * Marks an empty hash slot or the end of a chain. Positions fit 16 bits (half the cache footprint
 * of 32-bit tables), and 65535 is never inserted: a position needs 3 bytes after it.
 */
const NO_POSITION = 0xffff;

/**
 * Below level 60 a match of this length is taken without looking ahead (zlib's "max_lazy"). On
 * the x86 binaries of the bench corpus (level 30, best of 15 passes): 16 → 8 saved 6% of the time
 * for 0.03% of size, 8 → 6 another 7% for 0.11% (7: 4% for 0.03%; 4: 4% for 0.7%).
 */
const LAZY_MAX_LENGTH = 6;

/** The default compression level (wimlib's scale; its own default is 50, see the module doc). */
export const XPRESS_DEFAULT_LEVEL = 30;

/** Options for {@linkcode XpressCompressor}. */
export interface XpressCompressorOptions {
  /**
   * wimlib's level scale, 1 and up (default 30): below 30 greedy parsing, from 30 lazy parsing;
   * the search depth and the length at which a match is taken at once grow with the level.
   */
  level?: number;
}

/**
 * Compresses WIM chunks with XPRESS; one object reuses its match-finder tables for every chunk.
 *
 * @example Compress a chunk as a WIM writer does
 * ```ts
 * import { XpressCompressor } from "./xpress_compress.ts";
 * import assert from "node:assert/strict";
 * const data = new TextEncoder().encode("wimkit ".repeat(1000));
 * const dst = new Uint8Array(data.length - 1);
 * const size = new XpressCompressor({ level: 50 }).compress(data, dst);
 * assert.ok(size > 0 && size < 400);
 * ```
 */
export class XpressCompressor implements ChunkCompressor {
  /** Search depth at the position after a held-back match. */
  readonly #lookAheadDepth: number;
  readonly #maxDepth: number;
  readonly #niceLength: number;
  /** Matches at least this long are taken without looking one position ahead. */
  readonly #lazyLength: number;
  /** A copy of the chunk with zero padding, read 4 bytes at a time through {@linkcode #view}. */
  #buf = new Uint8Array(MAX_CHUNK_SIZE + 8);
  #view = new DataView(this.#buf.buffer);
  /** Most recent position for each 3-byte hash, {@linkcode NO_POSITION} when none. */
  #head3 = new Uint16Array(1 << HASH3_BITS);
  /** Most recent position for each 4-byte hash, {@linkcode NO_POSITION} when none. */
  #head4 = new Uint16Array(1 << HASH4_BITS);
  /** The previous position with the same 4-byte hash, {@linkcode NO_POSITION} when none. */
  #prev = new Uint16Array(MAX_CHUNK_SIZE);
  /** Items of the current chunk: a literal byte, or `length << 16 | offset` for a match. */
  #items = new Uint32Array(MAX_CHUNK_SIZE);
  #freqs = new Uint32Array(SYMBOL_COUNT);
  #lengths = new Uint8Array(SYMBOL_COUNT);
  #codewords = new Uint16Array(SYMBOL_COUNT);
  /** `codeword << 4 | length` of each symbol: one load per item when writing. */
  #codes = new Int32Array(SYMBOL_COUNT);
  /** Length bytes the parsed matches need (lengths of 18 and more). */
  #lengthBytes = 0;

  /**
   * Creates a compressor for the given level.
   *
   * @throws {RangeError} If the level is not an integer from 1 to 2^24 - 1.
   */
  constructor(options: XpressCompressorOptions = {}) {
    const level = options.level ?? XPRESS_DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < 1 || level > 0xffffff) {
      throw new RangeError(
        `Cannot create XPRESS compressor: level is ${level}, expected 1 to 16777215`,
      );
    }
    const lazy = level >= 30;
    const scale = lazy ? 32 : 16;
    this.#maxDepth = Math.max(2, Math.min(Math.floor((30 * level) / scale), 4096));
    this.#niceLength = Math.max(
      MIN_MATCH_LENGTH + 1,
      Math.min(Math.floor((60 * level) / scale), MAX_CHUNK_SIZE),
    );
    this.#lookAheadDepth = Math.max(1, this.#maxDepth >> 2);
    this.#lazyLength = !lazy
      ? MIN_MATCH_LENGTH
      : level >= 60
      ? this.#niceLength
      : Math.min(LAZY_MAX_LENGTH, this.#niceLength);
  }

  /**
   * Compresses `src` (at most 64 KiB) into `dst`.
   *
   * @returns The compressed size, or 0 when the chunk does not fit in `dst`.
   * @throws {RangeError} If `src` is larger than 65536 bytes.
   */
  compress(src: Uint8Array, dst: Uint8Array): number {
    const end = src.length;
    if (end > MAX_CHUNK_SIZE) {
      throw new RangeError(
        `Cannot compress XPRESS chunk: size is ${end} bytes, at most ${MAX_CHUNK_SIZE}`,
      );
    }
    if (dst.length < MIN_COMPRESSED_BYTES) return 0;
    const itemCount = this.#parse(src);
    return this.#writeChunk(itemCount, dst);
  }

  /**
   * Parses the chunk into items and counts their symbols. Lazy: a match shorter than
   * {@linkcode #lazyLength} is held back while the next position (searched at half depth) offers
   * a strictly longer one, a literal being sent instead; greedy is the same with every match taken
   * at once. The search is written out here, not called: V8 keeps every table in a register.
   * Returns the item count.
   */
  #parse(src: Uint8Array): number {
    const end = src.length;
    const buf = this.#buf;
    const view = this.#view;
    const head3 = this.#head3;
    const head4 = this.#head4;
    const prev = this.#prev;
    const items = this.#items;
    const freqs = this.#freqs;
    const maxDepth = this.#maxDepth;
    const lookAheadDepth = this.#lookAheadDepth;
    const niceLength = this.#niceLength;
    const lazyLength = this.#lazyLength;
    const farLength3 = end > 8192 ? 4096 : 2048;
    const hashEnd = end - 2;
    buf.set(src);
    buf.fill(0, end, end + 8);
    head3.fill(NO_POSITION);
    head4.fill(NO_POSITION);
    freqs.fill(0);
    let lengthBytes = 0;
    let count = 0;
    let pos = 0;
    /** Length and offset of the match held back at `pos - 1`; 0 when none. */
    let heldLength = 0;
    let heldOffset = 0;
    while (pos < hashEnd) {
      // Insert `pos` and search for a match longer than the held one.
      const word = view.getInt32(pos, true);
      const h3 = Math.imul(word << 8, HASH_MULTIPLIER) >>> HASH3_SHIFT;
      const cand3 = head3[h3]!;
      head3[h3] = pos;
      const h4 = Math.imul(word, HASH_MULTIPLIER) >>> HASH4_SHIFT;
      let cand = head4[h4]!;
      prev[pos] = cand;
      head4[h4] = pos;
      const maxLength = end - pos;
      let length = heldLength === 0 ? 2 : heldLength;
      let offset = 0;
      if (length < maxLength) {
        const nice = niceLength < maxLength ? niceLength : maxLength;
        // The word ending one byte past the best length must match to do better.
        let tail = length >= 4 ? length - 3 : 0;
        let tailWord = view.getInt32(pos + tail, true);
        let depth = heldLength === 0 ? maxDepth : lookAheadDepth;
        while (cand !== NO_POSITION) {
          if (view.getInt32(cand + tail, true) === tailWord && view.getInt32(cand, true) === word) {
            let n = 4;
            for (;;) {
              const diff = view.getInt32(cand + n, true) ^ view.getInt32(pos + n, true);
              if (diff !== 0) {
                n += (31 - Math.clz32(diff & -diff)) >> 3;
                break;
              }
              n += 4;
              if (n >= maxLength) break;
            }
            if (n > maxLength) n = maxLength;
            if (n > length) {
              length = n;
              offset = pos - cand;
              if (n >= nice) break;
              tail = n - 3;
              tailWord = view.getInt32(pos + tail, true);
            }
          }
          if (--depth === 0) break;
          cand = prev[cand]!;
        }
        if (
          length === 2 && cand3 !== NO_POSITION && pos - cand3 <= farLength3 &&
          ((view.getInt32(cand3, true) ^ word) & 0xffffff) === 0
        ) {
          length = 3;
          offset = pos - cand3;
        }
      }

      let matchStart = pos;
      if (heldLength !== 0) {
        if (offset !== 0) {
          // A longer match one position later: send the held position as a literal.
          const literal = buf[pos - 1]!;
          items[count++] = literal;
          freqs[literal]!++;
          if (length < lazyLength) {
            heldLength = length;
            heldOffset = offset;
            pos++;
            continue;
          }
        } else {
          // Send the held match; `pos` is already in the tables.
          matchStart = pos - 1;
          length = heldLength;
          offset = heldOffset;
        }
        heldLength = 0;
      } else if (offset === 0) {
        const literal = buf[pos]!;
        items[count++] = literal;
        freqs[literal]!++;
        pos++;
        continue;
      } else if (length < lazyLength) {
        heldLength = length;
        heldOffset = offset;
        pos++;
        continue;
      }

      // Send the match at `matchStart` and insert the positions it covers.
      items[count++] = ((length << 16) | offset) >>> 0;
      const lengthHeader = length - MIN_MATCH_LENGTH;
      freqs[
        256 + ((31 - Math.clz32(offset)) << 4) + (lengthHeader < 15 ? lengthHeader : 15)
      ]!++;
      if (lengthHeader >= 15) lengthBytes += lengthHeader - 15 < 255 ? 1 : 3;
      const matchEnd = matchStart + length;
      const insertEnd = matchEnd < hashEnd ? matchEnd : hashEnd;
      for (let p = pos + 1; p < insertEnd; p++) {
        const w = view.getInt32(p, true);
        head3[Math.imul(w << 8, HASH_MULTIPLIER) >>> HASH3_SHIFT] = p;
        const h = Math.imul(w, HASH_MULTIPLIER) >>> HASH4_SHIFT;
        prev[p] = head4[h]!;
        head4[h] = p;
      }
      pos = matchEnd;
    }
    if (heldLength !== 0) {
      // The loop stopped on the position after a held match: send it.
      items[count++] = ((heldLength << 16) | heldOffset) >>> 0;
      const lengthHeader = heldLength - MIN_MATCH_LENGTH;
      freqs[
        256 + ((31 - Math.clz32(heldOffset)) << 4) + (lengthHeader < 15 ? lengthHeader : 15)
      ]!++;
      if (lengthHeader >= 15) lengthBytes += lengthHeader - 15 < 255 ? 1 : 3;
      pos += heldLength - 1;
    }
    while (pos < end) {
      const literal = buf[pos++]!;
      items[count++] = literal;
      freqs[literal]!++;
    }
    this.#lengthBytes = lengthBytes;
    return count;
  }

  /** Builds the Huffman code for the items, sizes the output and writes it. */
  #writeChunk(itemCount: number, dst: Uint8Array): number {
    const items = this.#items;
    const freqs = this.#freqs;
    const lengths = this.#lengths;
    const codewords = this.#codewords;
    const codes = this.#codes;
    freqs[END_OF_DATA_SYMBOL]!++;
    buildCodeLengths(freqs, SYMBOL_COUNT, MAX_CODEWORD_LENGTH, lengths);

    let totalBits = 0;
    for (let sym = 0; sym < SYMBOL_COUNT; sym++) {
      // A match symbol's offset slot is also its number of extra offset bits.
      totalBits += freqs[sym]! * (lengths[sym]! + (sym < 256 ? 0 : (sym - 256) >> 4));
    }
    const size = TABLE_BYTES + 2 * (Math.ceil(totalBits / 16) + 1) + this.#lengthBytes;
    if (size > dst.length) return 0;

    buildCodewords(lengths, SYMBOL_COUNT, MAX_CODEWORD_LENGTH, codewords);
    for (let i = 0; i < TABLE_BYTES; i++) dst[i] = lengths[2 * i]! | (lengths[2 * i + 1]! << 4);

    // Bit writer: `pending` bits (1..16 between items) wait in the low bits of `bitBuf`; slots
    // `slotA` and `slotB` are reserved for the next two words, bytes go to `bytePos`.
    let bitBuf = 0;
    let pending = 0;
    let slotA = TABLE_BYTES;
    let slotB = TABLE_BYTES + 2;
    let bytePos = TABLE_BYTES + 4;
    for (let sym = 0; sym < SYMBOL_COUNT; sym++) {
      codes[sym] = (codewords[sym]! << 4) | lengths[sym]!;
    }
    for (let i = 0; i < itemCount; i++) {
      const item = items[i]!;
      if (item < 256) {
        const code = codes[item]!;
        const codeLength = code & 15;
        bitBuf = (bitBuf << codeLength) | (code >>> 4);
        pending += codeLength;
        if (pending > 16) {
          pending -= 16;
          const word = bitBuf >>> pending;
          dst[slotA] = word;
          dst[slotA + 1] = word >>> 8;
          slotA = slotB;
          slotB = bytePos;
          bytePos += 2;
        }
        continue;
      }
      const offset = item & 0xffff;
      const lengthHeader = (item >>> 16) - MIN_MATCH_LENGTH;
      const offsetBits = 31 - Math.clz32(offset);
      const code = codes[256 + (offsetBits << 4) + (lengthHeader < 15 ? lengthHeader : 15)]!;
      const codeLength = code & 15;
      bitBuf = (bitBuf << codeLength) | (code >>> 4);
      pending += codeLength;
      if (pending > 16) {
        pending -= 16;
        const word = bitBuf >>> pending;
        dst[slotA] = word;
        dst[slotA + 1] = word >>> 8;
        slotA = slotB;
        slotB = bytePos;
        bytePos += 2;
      }
      if (lengthHeader >= 15) {
        if (lengthHeader - 15 < 255) {
          dst[bytePos++] = lengthHeader - 15;
        } else {
          dst[bytePos] = 255;
          dst[bytePos + 1] = lengthHeader;
          dst[bytePos + 2] = lengthHeader >>> 8;
          bytePos += 3;
        }
      }
      if (offsetBits !== 0) {
        bitBuf = (bitBuf << offsetBits) | (offset & ((1 << offsetBits) - 1));
        pending += offsetBits;
        if (pending > 16) {
          pending -= 16;
          const word = bitBuf >>> pending;
          dst[slotA] = word;
          dst[slotA + 1] = word >>> 8;
          slotA = slotB;
          slotB = bytePos;
          bytePos += 2;
        }
      }
    }
    // End marker, then the last partial word (zero padded) and the spare word.
    const endLength = lengths[END_OF_DATA_SYMBOL]!;
    bitBuf = (bitBuf << endLength) | codewords[END_OF_DATA_SYMBOL]!;
    pending += endLength;
    if (pending > 16) {
      pending -= 16;
      const word = bitBuf >>> pending;
      dst[slotA] = word;
      dst[slotA + 1] = word >>> 8;
      slotA = slotB;
      slotB = bytePos;
      bytePos += 2;
    }
    const last = bitBuf << (16 - pending);
    dst[slotA] = last;
    dst[slotA + 1] = last >>> 8;
    dst[slotB] = 0;
    dst[slotB + 1] = 0;
    return bytePos;
  }
}
