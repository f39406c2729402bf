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
 * look-ahead at half the search depth, skipped for matches of 16 bytes or more below level 60).
 * Matches of 4 bytes and more come from hash chains over 4-byte prefixes, limited to a chain depth
 * and a "nice" length that grow with the level (wimlib's formulas); length-3 matches come from a
 * one-entry table per 3-byte prefix and are dropped when farther than 2 KiB (4 KiB in chunks over
 * 8 KiB), where they cost more than three literals. Levels of 60 and above only search deeper:
 * there is no near-optimal parser (wimlib's is about 2.5% smaller at 4x the time). The exact output
 * size is computed from the Huffman code before anything is written, so a chunk that does not fit
 * costs no writing at all.
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
const HASH4_BITS = 15;
const HASH4_SHIFT = 32 - HASH4_BITS;
const HASH3_BITS = 14;
const HASH3_SHIFT = 32 - HASH3_BITS;
const HASH_MULTIPLIER = 0x1e35a7bd;
/**
 * Marks an empty hash slot or the end of a chain. Positions fit 16 bits (half the cache footprint
 * of 32-bit tables), and 65535 is never inserted: a position needs 3 bytes after it.
 */
const NO_POSITION = 0xffff;

/**
 * Below level 60 a match of this length is taken without looking ahead (zlib's "max_lazy"): on
 * x86 binaries this saved about 15% of the time for 0.03% of size.
 */
const LAZY_MAX_LENGTH = 16;

/** The default compression level, as in wimlib. */
export const XPRESS_DEFAULT_LEVEL = 50;

/** Options for {@linkcode XpressCompressor}. */
export interface XpressCompressorOptions {
  /**
   * wimlib's level scale, 1 and up (default 50): below 30 greedy parsing, from 30 lazy parsing;
   * the search depth and the length at which a match is taken at once grow with the level.
   */
  level?: number;
}

/** Offset of the last match {@linkcode findMatch} returned a length for. */
let foundOffset = 0;

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
  readonly #lazy: boolean;
  readonly #maxDepth: number;
  readonly #niceLength: number;
  /** Matches at least this long are taken without looking one position ahead. */
  readonly #lazyLength: number;
  /** `words[i]` holds bytes i..i+3 of the chunk (little-endian, zeros past the end). */
  #words = new Int32Array(MAX_CHUNK_SIZE + 4);
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
    this.#lazy = level >= 30;
    const scale = this.#lazy ? 32 : 16;
    this.#maxDepth = Math.max(2, Math.min(Math.floor((30 * level) / scale), 4096));
    this.#niceLength = Math.max(
      MIN_MATCH_LENGTH + 1,
      Math.min(Math.floor((60 * level) / scale), MAX_CHUNK_SIZE),
    );
    this.#lazyLength = level >= 60 ? this.#niceLength : Math.min(LAZY_MAX_LENGTH, this.#niceLength);
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
    const itemCount = this.#lazy ? this.#parseLazy(src) : this.#parseGreedy(src);
    return this.#writeChunk(itemCount, dst);
  }

  /** Greedy parse: take the longest match at each position. Returns the item count. */
  #parseGreedy(src: Uint8Array): number {
    const end = src.length;
    const words = this.#words;
    const head3 = this.#head3;
    const head4 = this.#head4;
    const prev = this.#prev;
    const items = this.#items;
    const maxDepth = this.#maxDepth;
    const niceLength = this.#niceLength;
    const farLength3 = end > 8192 ? 4096 : 2048;
    const hashEnd = end - 2;
    loadWords(src, words);
    head3.fill(NO_POSITION);
    head4.fill(NO_POSITION);
    let count = 0;
    let pos = 0;
    while (pos < hashEnd) {
      const length = findMatch(words, head3, head4, prev, pos, end, maxDepth, 2, niceLength);
      if (length < MIN_MATCH_LENGTH || (length === 3 && foundOffset > farLength3)) {
        items[count++] = src[pos++]!;
        continue;
      }
      items[count++] = ((length << 16) | foundOffset) >>> 0;
      const matchEnd = pos + length;
      insertRange(words, head3, head4, prev, pos + 1, Math.min(matchEnd, hashEnd));
      pos = matchEnd;
    }
    while (pos < end) items[count++] = src[pos++]!;
    return count;
  }

  /**
   * Lazy parse: before taking a match, look one position ahead (at half depth) and prefer a
   * literal plus a longer match there. Returns the item count.
   */
  #parseLazy(src: Uint8Array): number {
    const end = src.length;
    const words = this.#words;
    const head3 = this.#head3;
    const head4 = this.#head4;
    const prev = this.#prev;
    const items = this.#items;
    const maxDepth = this.#maxDepth;
    const lookAheadDepth = Math.max(1, maxDepth >> 1);
    const niceLength = this.#niceLength;
    const lazyLength = this.#lazyLength;
    const farLength3 = end > 8192 ? 4096 : 2048;
    const hashEnd = end - 2;
    loadWords(src, words);
    head3.fill(NO_POSITION);
    head4.fill(NO_POSITION);
    let count = 0;
    let pos = 0;
    while (pos < hashEnd) {
      let length = findMatch(words, head3, head4, prev, pos, end, maxDepth, 2, niceLength);
      if (length < MIN_MATCH_LENGTH || (length === 3 && foundOffset > farLength3)) {
        items[count++] = src[pos++]!;
        continue;
      }
      let offset = foundOffset;
      // Look ahead while the next position offers a strictly longer match.
      while (length < lazyLength && pos + 1 < hashEnd) {
        const next = findMatch(
          words,
          head3,
          head4,
          prev,
          pos + 1,
          end,
          lookAheadDepth,
          length,
          niceLength,
        );
        if (next <= length) break;
        items[count++] = src[pos++]!;
        length = next;
        offset = foundOffset;
      }
      items[count++] = ((length << 16) | offset) >>> 0;
      const matchEnd = pos + length;
      // Position pos + 1 is already in the chains when the look-ahead ran.
      const insertFrom = length < lazyLength && pos + 1 < hashEnd ? pos + 2 : pos + 1;
      insertRange(words, head3, head4, prev, insertFrom, Math.min(matchEnd, hashEnd));
      pos = matchEnd;
    }
    while (pos < end) items[count++] = src[pos++]!;
    return count;
  }

  /** Builds the Huffman code for the items, sizes the output and writes it. */
  #writeChunk(itemCount: number, dst: Uint8Array): number {
    const items = this.#items;
    const freqs = this.#freqs;
    const lengths = this.#lengths;
    const codewords = this.#codewords;
    freqs.fill(0);
    let extraBits = 0;
    let lengthBytes = 0;
    for (let i = 0; i < itemCount; i++) {
      const item = items[i]!;
      if (item < 256) {
        freqs[item]!++;
        continue;
      }
      const offset = item & 0xffff;
      const lengthHeader = (item >>> 16) - MIN_MATCH_LENGTH;
      const offsetBits = 31 - Math.clz32(offset);
      extraBits += offsetBits;
      if (lengthHeader >= 15) lengthBytes += lengthHeader - 15 < 255 ? 1 : 3;
      freqs[256 + (offsetBits << 4) + (lengthHeader < 15 ? lengthHeader : 15)]!++;
    }
    freqs[END_OF_DATA_SYMBOL]!++;
    buildCodeLengths(freqs, SYMBOL_COUNT, MAX_CODEWORD_LENGTH, lengths);

    let totalBits = extraBits;
    for (let sym = 0; sym < SYMBOL_COUNT; sym++) totalBits += freqs[sym]! * lengths[sym]!;
    const size = TABLE_BYTES + 2 * (Math.ceil(totalBits / 16) + 1) + lengthBytes;
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
    for (let i = 0; i < itemCount; i++) {
      const item = items[i]!;
      let sym: number;
      let offset = 0;
      let lengthHeader = 0;
      let offsetBits = 0;
      if (item < 256) {
        sym = item;
      } else {
        offset = item & 0xffff;
        lengthHeader = (item >>> 16) - MIN_MATCH_LENGTH;
        offsetBits = 31 - Math.clz32(offset);
        sym = 256 + (offsetBits << 4) + (lengthHeader < 15 ? lengthHeader : 15);
      }
      const codeLength = lengths[sym]!;
      bitBuf = (bitBuf << codeLength) | codewords[sym]!;
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
      if (item < 256) continue;
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

/** Fills `words` so that `words[i]` holds bytes i..i+3 of `src`, with zeros past its end. */
function loadWords(src: Uint8Array, words: Int32Array): void {
  let word = 0;
  words[src.length] = 0;
  for (let i = src.length - 1; i >= 0; i--) {
    word = (word << 8) | src[i]!;
    words[i] = word;
  }
}

/** Adds positions `from` to `to - 1` to the hash tables (each needs 3 bytes of input). */
function insertRange(
  words: Int32Array,
  head3: Uint16Array,
  head4: Uint16Array,
  prev: Uint16Array,
  from: number,
  to: number,
): void {
  for (let p = from; p < to; p++) {
    const word = words[p]!;
    head3[Math.imul(word << 8, HASH_MULTIPLIER) >>> HASH3_SHIFT] = p;
    const h = Math.imul(word, HASH_MULTIPLIER) >>> HASH4_SHIFT;
    prev[p] = head4[h]!;
    head4[h] = p;
  }
}

/**
 * Inserts `pos` into the hash tables and returns the length of the longest earlier match longer
 * than `bestLength` (or `bestLength` when there is none), searching at most `maxDepth` candidates
 * of 4 bytes or more, then the most recent 3-byte candidate; the match offset is left in
 * {@linkcode foundOffset}. Requires `pos + 3 <= end`.
 */
function findMatch(
  words: Int32Array,
  head3: Uint16Array,
  head4: Uint16Array,
  prev: Uint16Array,
  pos: number,
  end: number,
  maxDepth: number,
  bestLength: number,
  niceLength: number,
): number {
  const word = words[pos]!;
  const h3 = Math.imul(word << 8, HASH_MULTIPLIER) >>> HASH3_SHIFT;
  const cand3 = head3[h3]!;
  head3[h3] = pos;
  const h4 = Math.imul(word, HASH_MULTIPLIER) >>> HASH4_SHIFT;
  let cand = head4[h4]!;
  prev[pos] = cand;
  head4[h4] = pos;
  const maxLength = end - pos;
  if (bestLength >= maxLength) return bestLength;
  const nice = niceLength < maxLength ? niceLength : maxLength;
  const startLength = bestLength;
  // Compare the word that ends one byte past the best length first: it must match to do better.
  let tail = bestLength >= 4 ? bestLength - 3 : 0;
  let tailWord = words[pos + tail]!;
  let depth = maxDepth;
  while (cand !== NO_POSITION && depth-- > 0) {
    if (words[cand + tail] === tailWord && words[cand] === word) {
      let length = 4;
      for (;;) {
        const diff = words[cand + length]! ^ words[pos + length]!;
        if (diff !== 0) {
          length += (31 - Math.clz32(diff & -diff)) >> 3;
          break;
        }
        length += 4;
        if (length >= maxLength) break;
      }
      if (length > maxLength) length = maxLength;
      if (length > bestLength) {
        bestLength = length;
        foundOffset = pos - cand;
        if (length >= nice) break;
        tail = length - 3;
        tailWord = words[pos + tail]!;
      }
    }
    cand = prev[cand]!;
  }
  if (
    bestLength === startLength && bestLength < 3 && cand3 !== NO_POSITION &&
    ((words[cand3]! ^ word) & 0xffffff) === 0
  ) {
    bestLength = 3;
    foundOffset = pos - cand3;
  }
  return bestLength;
}
