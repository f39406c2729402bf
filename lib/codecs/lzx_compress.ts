/**
 * LZX (WIM variant) chunk compressor.
 *
 * The output follows wim-codecs.md §3.9: E8 call translation on a private copy of the chunk, then
 * verbatim or aligned-offset blocks (whichever is smaller, computed exactly per block), code
 * lengths sent as pretree-coded deltas against the previous block, matches that never cross a
 * block end, offsets of at most window − 3, and the recent offsets R0–R2 starting at 1 per chunk.
 * Uncompressed blocks are never written: a chunk that does not fit in `dst` returns 0 and the WIM
 * writer stores it raw. Chunks up to 32 KiB are one block; larger chunks (64 KiB … 2 MiB windows)
 * are cut into blocks of {@linkcode MAX_BLOCK_SIZE} bytes.
 *
 * Match finding: hash chains. For each position the cache gets the latest earlier position with
 * the same 2-byte hash (12 bits, only within {@linkcode MAX_LENGTH2_OFFSET}), the latest with the
 * same 3-byte hash (13 bits), then every strictly longer match met while walking the chain of
 * positions with the same 4-byte hash, to a depth and a "nice" length that grow with the level.
 * Small head tables stay in cache: the full 64K-entry 2- and 3-byte tables cost about 4% of the
 * time for nothing. A binary-tree finder (wimlib's choice) was tried first: 1.7% smaller output at
 * depth 24 but about 60% slower per position here, which the time budget could not afford.
 * Matches are found once per block.
 *
 * Parsing, at every level: a near-optimal parse. A forward minimum-cost search over the block,
 * with costs in bits from Huffman code lengths, considers at each position a literal, every
 * length of the three repeat-offset matches (R0–R2 are carried along the cheapest path to each
 * position) and every length of each cached match at the smallest offset reaching it. A match of
 * the nice length or more ends the search window and is taken as is. The first costs come from a
 * greedy parse over the cached matches, symbols it did not use costing
 * {@linkcode UNUSED_SYMBOL_COST} bits; each further pass re-prices with the previous result's
 * code lengths. Levels below 60 run one pass, plus a second one for blocks whose first parse
 * averages more than {@linkcode EXTRA_PASS_BYTES_PER_ITEM} bytes per item (the greedy prices are
 * far off there, and such blocks parse fast); 60–89 run two passes, 90 and up three. The unused
 * symbol cost matters most: at 15 the first pass shunned every length/offset pair greedy had not
 * used and 41% of PE blocks needed the second pass to get within 2.6% of wimlib; at 9 one pass
 * gets within 2.4%. Search depth is 12·L/50 (at least 4), nice length 24·L/50 (at least 12); there
 * is no lazy parser.
 *
 * Measured (2-core EPYC VM shared with other jobs, Deno 2.9.6; single thread, best of 5 passes
 * alternating with wimlib 1.13.6 through FFI), 407 chunks of 32 KiB (every 16th of the 200 MiB PE
 * DLL bench corpus), against wimlib's default level 50 (3,838,056 bytes, 10.9-11.5 MB/s):
 *
 * | level | passes | size vs wimlib L50 | time vs wimlib L50 |
 * |---|---|---|---|
 * | 20 | 1 (+1) | 1.043 | 0.89 |
 * | 50 (default) | 1 (+1) | 1.022 | 1.22 (was 1.025 at 1.41 before the tuning above) |
 * | 100 | 3 | 1.009 | 3.0 |
 *
 * (wimlib's own lazy level 20 is 1.033 at 0.16; our level 20 is far slower than that.)
 */

import type { ChunkCompressor } from "./codec.ts";
import { buildCodeLengths, buildCodewords } from "./huffman.ts";
import {
  LZX_ALIGNED_CODE_SYMBOLS,
  LZX_BLOCKTYPE_ALIGNED,
  LZX_BLOCKTYPE_VERBATIM,
  LZX_DEFAULT_BLOCK_SIZE,
  LZX_EXTRA_BITS,
  LZX_LENGTH_CODE_SYMBOLS,
  LZX_MAX_ALIGNED_CODEWORD_LEN,
  LZX_MAX_LENGTH_CODEWORD_LEN,
  LZX_MAX_MAIN_CODEWORD_LEN,
  LZX_MAX_MAIN_SYMBOLS,
  LZX_MAX_MATCH_LEN,
  LZX_MAX_PRETREE_CODEWORD_LEN,
  LZX_MIN_MATCH_LEN,
  LZX_NUM_CHARS,
  LZX_NUM_LEN_HEADERS,
  LZX_OFFSET_ADJUSTMENT,
  LZX_POSITION_BASES,
  LZX_PRETREE_LENGTH_BITS,
  LZX_PRETREE_SYMBOLS,
  lzxE8Do,
  lzxMainSymbolCount,
  lzxPositionSlot,
  lzxWindowOrder,
} from "./lzx_common.ts";

/** The default compression level, as in wimlib. */
export const LZX_DEFAULT_LEVEL = 50;

/** Largest block the compressor writes; chunks above this size get several blocks. */
const MAX_BLOCK_SIZE = 65536;
/** Hash bits of the 2-byte table: length-2 matches are only wanted within 1 KiB. */
const HASH2_BITS = 12;
const HASH2_SHIFT = 32 - HASH2_BITS;
/** Hash bits of the 3-byte table. */
const HASH3_BITS = 13;
const HASH3_SHIFT = 32 - HASH3_BITS;
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
/** Hash bits of the hash-chain heads (4-byte prefixes). */
const CHAIN_HASH_BITS = 16;
const CHAIN_HASH_SHIFT = 32 - CHAIN_HASH_BITS;
/** Empty tree slot / no position. */
const NIL = -1;
/** Cached matches are packed as `length << MATCH_LENGTH_SHIFT | offset` (offsets < 2^21). */
const MATCH_LENGTH_SHIFT = 21;
const MATCH_OFFSET_MASK = (1 << MATCH_LENGTH_SHIFT) - 1;
/**
 * Length-2 matches farther than this are not recorded: their offset bits alone cost about as
 * much as two literals.
 */
const MAX_LENGTH2_OFFSET = 1024;
/** A one-pass level parses a block twice when its first parse averages more bytes per item. */
const EXTRA_PASS_BYTES_PER_ITEM = 8;
/** Cost in bits given to a symbol that the previous pass did not use. */
const UNUSED_SYMBOL_COST = 9;
/** Larger than any path cost. */
const INFINITE_COST = 0x7fffffff;
/** Main-symbol length header meaning "length comes from the length code". */
const LENGTH_HEADER_LONG = LZX_NUM_LEN_HEADERS - 1;
/** Pretree symbols 17, 18 and 19: short zero run, long zero run, run of one value. */
const PRETREE_ZERO_RUN_SHORT = 17;
const PRETREE_ZERO_RUN_LONG = 18;
const PRETREE_SAME_RUN = 19;

/** Options for {@linkcode LzxCompressor}. */
export interface LzxCompressorOptions {
  /** The resource's chunk size (the LZX window): a power of two from 32768 (default) to 2 MiB. */
  chunkSize?: number;
  /** wimlib's level scale, 1 and up (default 50): more passes and deeper searches as it grows. */
  level?: number;
}

/**
 * Compresses WIM chunks with LZX; one object per chunk size reuses its tables for every chunk.
 *
 * @example Compress a chunk and decode it again
 * ```ts
 * import { LzxCompressor } from "./lzx_compress.ts";
 * import { LzxDecompressor } from "./lzx_decompress.ts";
 * import assert from "node:assert/strict";
 * const data = new TextEncoder().encode("wimkit LZX ".repeat(1000));
 * const dst = new Uint8Array(data.length - 1);
 * const size = new LzxCompressor().compress(data, dst);
 * assert.ok(size > 0 && size < 300);
 * const back = new Uint8Array(data.length);
 * new LzxDecompressor(32768).decompress(dst.subarray(0, size), back);
 * assert.deepEqual(back, data);
 * ```
 */
export class LzxCompressor implements ChunkCompressor {
  readonly #chunkSize: number;
  readonly #windowOrder: number;
  readonly #mainSymbolCount: number;
  readonly #maxOffset: number;
  readonly #maxBlockSize: number;
  readonly #maxDepth: number;
  readonly #niceLength: number;
  readonly #passes: number;

  /** The chunk after E8 translation, with zero padding. */
  readonly #data: Uint8Array;
  /** `words[i]` holds bytes i..i+3 of the chunk, little-endian (zeros past the end). */
  readonly #words: Int32Array;
  /** Latest position of each 4-byte hash. */
  readonly #head4 = new Int32Array(1 << CHAIN_HASH_BITS);
  /** The previous position with the same 4-byte hash. */
  readonly #prev: Int32Array;
  /** Latest position of each 2-byte hash (only recent ones matter). */
  readonly #head2 = new Int32Array(1 << HASH2_BITS);
  /** Latest position of each 3-byte hash. */
  readonly #head3 = new Int32Array(1 << HASH3_BITS);
  /** Matches of the current block, packed; grows when a block needs more room. */
  #matchCache: Uint32Array;
  /** Index in the match cache of each block position's first match (one extra at the end). */
  readonly #matchStart: Int32Array;

  // Minimum-cost search state, one entry per block position (plus the end).
  readonly #cost: Int32Array;
  /** Length of the item arriving at each position; 0 for a literal. */
  readonly #arrivalLength: Uint16Array;
  /** Offset code of the item arriving at each position: 0-2 repeat slot, else formatted offset. */
  readonly #arrivalOffset: Int32Array;
  readonly #rep0: Int32Array;
  readonly #rep1: Int32Array;
  readonly #rep2: Int32Array;

  // The parse of the current block.
  /** Item lengths; 0 for a literal. */
  readonly #itemLength: Uint16Array;
  /** Literal byte, or offset code (0-2 repeat slot, else formatted offset). */
  readonly #itemValue: Int32Array;

  // Codes.
  readonly #mainFreqs = new Uint32Array(LZX_MAX_MAIN_SYMBOLS);
  readonly #lengthFreqs = new Uint32Array(LZX_LENGTH_CODE_SYMBOLS);
  readonly #alignedFreqs = new Uint32Array(LZX_ALIGNED_CODE_SYMBOLS);
  readonly #mainLengths = new Uint8Array(LZX_MAX_MAIN_SYMBOLS);
  readonly #lengthLengths = new Uint8Array(LZX_LENGTH_CODE_SYMBOLS);
  readonly #alignedLengths = new Uint8Array(LZX_ALIGNED_CODE_SYMBOLS);
  readonly #prevMainLengths = new Uint8Array(LZX_MAX_MAIN_SYMBOLS);
  readonly #prevLengthLengths = new Uint8Array(LZX_LENGTH_CODE_SYMBOLS);
  readonly #mainCodewords = new Uint32Array(LZX_MAX_MAIN_SYMBOLS);
  readonly #lengthCodewords = new Uint32Array(LZX_LENGTH_CODE_SYMBOLS);
  readonly #alignedCodewords = new Uint32Array(LZX_ALIGNED_CODE_SYMBOLS);
  /** Costs in bits used by the parser. */
  readonly #mainCost = new Int32Array(LZX_MAX_MAIN_SYMBOLS);
  readonly #lengthCost = new Int32Array(LZX_LENGTH_CODE_SYMBOLS);
  /** Length-code cost of each match length of 9 and more (indexed by the length). */
  readonly #longLengthCost = new Int32Array(LZX_MAX_MATCH_LEN + 1);
  /** Pretree items of one code-length run: `symbol | extra << 5`. */
  readonly #pretreeItems = new Uint16Array(LZX_MAX_MAIN_SYMBOLS + 1);
  readonly #pretreeFreqs = new Uint32Array(LZX_PRETREE_SYMBOLS);
  readonly #pretreeLengths = new Uint8Array(LZX_PRETREE_SYMBOLS);
  readonly #pretreeCodewords = new Uint32Array(LZX_PRETREE_SYMBOLS);

  /** Output buffer: large enough for any block sequence (a literal costs at most 16 bits). */
  readonly #out: Uint8Array;
  #outPos = 0;
  #bitBuf = 0;
  #bitCount = 0;

  /** Recent offsets at the start of the block being compressed. */
  #r0 = 1;
  #r1 = 1;
  #r2 = 1;

  /**
   * Creates a compressor for one chunk size and level.
   *
   * @throws {RangeError} If the chunk size is not a power of two from 32768 to 2097152, or the
   *   level is not an integer from 1 to 2^24 - 1.
   */
  constructor(options: LzxCompressorOptions = {}) {
    const chunkSize = options.chunkSize ?? LZX_DEFAULT_BLOCK_SIZE;
    const level = options.level ?? LZX_DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < 1 || level > 0xffffff) {
      throw new RangeError(
        `Cannot create LZX compressor: level is ${level}, expected 1 to 16777215`,
      );
    }
    this.#chunkSize = chunkSize;
    this.#windowOrder = lzxWindowOrder(chunkSize);
    this.#mainSymbolCount = lzxMainSymbolCount(this.#windowOrder);
    this.#maxOffset = chunkSize - 3;
    this.#maxBlockSize = Math.min(chunkSize, MAX_BLOCK_SIZE);
    this.#maxDepth = Math.max(4, Math.min(Math.floor((12 * level) / 50), 1024));
    this.#niceLength = Math.max(
      12,
      Math.min(Math.floor((24 * level) / 50), LZX_MAX_MATCH_LEN),
    );
    this.#passes = level < 60 ? 1 : level < 90 ? 2 : 3;

    const blockSize = this.#maxBlockSize;
    this.#data = new Uint8Array(chunkSize + 8);
    this.#words = new Int32Array(chunkSize + 8);
    this.#prev = new Int32Array(chunkSize);
    this.#matchCache = new Uint32Array(blockSize * 4 + 4096);
    this.#matchStart = new Int32Array(blockSize + 1);
    this.#cost = new Int32Array(blockSize + 1);
    this.#arrivalLength = new Uint16Array(blockSize + 1);
    this.#arrivalOffset = new Int32Array(blockSize + 1);
    this.#rep0 = new Int32Array(blockSize + 1);
    this.#rep1 = new Int32Array(blockSize + 1);
    this.#rep2 = new Int32Array(blockSize + 1);
    this.#itemLength = new Uint16Array(blockSize);
    this.#itemValue = new Int32Array(blockSize);
    const blocks = Math.ceil(chunkSize / blockSize);
    this.#out = new Uint8Array(4 * chunkSize + 4096 * blocks);
  }

  /**
   * Compresses `src` (at most the chunk size) into `dst`; `src` is not modified.
   *
   * @returns The compressed size, or 0 when the chunk does not fit in `dst`.
   * @throws {RangeError} If `src` is larger than the chunk size.
   */
  compress(src: Uint8Array, dst: Uint8Array): number {
    const n = src.length;
    if (n > this.#chunkSize) {
      throw new RangeError(
        `Cannot compress LZX chunk: size is ${n} bytes, at most ${this.#chunkSize}`,
      );
    }
    if (n === 0 || dst.length === 0) return 0;
    const data = this.#data;
    data.set(src);
    data.fill(0, n, n + 8);
    lzxE8Do(data.subarray(0, n));

    this.#head2.fill(NIL);
    this.#head3.fill(NIL);
    this.#head4.fill(NIL);
    const words = this.#words;
    let word = 0;
    for (let i = n + 3; i >= 0; i--) {
      word = (word << 8) | data[i]!;
      words[i] = word;
    }
    this.#prevMainLengths.fill(0);
    this.#prevLengthLengths.fill(0);
    this.#r0 = this.#r1 = this.#r2 = 1;
    this.#outPos = 0;
    this.#bitBuf = 0;
    this.#bitCount = 0;
    const limit = dst.length;

    for (let blockStart = 0; blockStart < n;) {
      const blockEnd = Math.min(n, blockStart + this.#maxBlockSize);
      // Returning the cache size, not storing it at the end of the search, keeps V8 from
      // deoptimizing the search (compiled mid-loop) on a store it has no feedback for.
      this.#matchStart[blockEnd - blockStart] = this.#findMatches(blockStart, blockEnd, n);
      let itemCount = this.#parseGreedy(blockStart, blockEnd);
      const blockSize = blockEnd - blockStart;
      for (let pass = 0; pass < this.#passes; pass++) {
        this.#countFrequencies(itemCount);
        this.#setCosts();
        itemCount = this.#parseOptimal(blockStart, blockEnd);
        // Greedy statistics misprice highly compressible blocks, and those parse fast: give
        // them a second pass.
        if (pass === 0 && this.#passes === 1 && itemCount * EXTRA_PASS_BYTES_PER_ITEM < blockSize) {
          this.#countFrequencies(itemCount);
          this.#setCosts();
          itemCount = this.#parseOptimal(blockStart, blockEnd);
        }
      }
      this.#r0 = this.#rep0[blockSize]!;
      this.#r1 = this.#rep1[blockSize]!;
      this.#r2 = this.#rep2[blockSize]!;
      this.#writeBlock(blockEnd - blockStart, itemCount);
      if (this.#outPos > limit) return 0;
      blockStart = blockEnd;
    }
    if (this.#bitCount > 0) this.#writeBits(0, 16 - this.#bitCount);
    const size = this.#outPos;
    if (size > limit) return 0;
    dst.set(this.#out.subarray(0, size));
    return size;
  }

  /**
   * Caches, for each position of the block, its matches of strictly increasing length: the
   * latest position with the same 2 bytes (if near), the latest with the same 3-byte hash, then
   * a walk of the chain of positions with the same 4-byte hash (offsets at most window − 3).
   * Returns the number of cache entries used.
   */
  #findMatches(blockStart: number, blockEnd: number, n: number): number {
    const words = this.#words;
    const head2 = this.#head2;
    const head3 = this.#head3;
    const head4 = this.#head4;
    const prev = this.#prev;
    const matchStart = this.#matchStart;
    const maxOffset = this.#maxOffset;
    const maxDepth = this.#maxDepth;
    const niceLength = this.#niceLength;
    let cache = this.#matchCache;
    let w = 0;
    for (let p = blockStart; p < blockEnd; p++) {
      matchStart[p - blockStart] = w;
      if (w + maxDepth + 4 > cache.length) {
        const bigger = new Uint32Array(cache.length * 2);
        bigger.set(cache);
        cache = bigger;
        this.#matchCache = cache;
      }
      const remaining = n - p;
      if (remaining < 2) continue;
      const word = words[p]!;
      const key2 = Math.imul(word << 16, HASH_MULTIPLIER) >>> HASH2_SHIFT;
      const cand2 = head2[key2]!;
      head2[key2] = p;
      let best = 1;
      if (
        cand2 !== NIL && p - cand2 <= MAX_LENGTH2_OFFSET && ((words[cand2]! ^ word) & 0xffff) === 0
      ) {
        cache[w++] = (2 << MATCH_LENGTH_SHIFT) | (p - cand2);
        best = 2;
      }
      if (remaining < 3) continue;
      const h3 = Math.imul(word << 8, HASH_MULTIPLIER) >>> HASH3_SHIFT;
      const cand3 = head3[h3]!;
      head3[h3] = p;
      if (cand3 !== NIL && p - cand3 <= maxOffset && ((words[cand3]! ^ word) & 0xffffff) === 0) {
        cache[w++] = (3 << MATCH_LENGTH_SHIFT) | (p - cand3);
        best = 3;
      }
      if (remaining < 4) continue;
      const h4 = Math.imul(word, HASH_MULTIPLIER) >>> CHAIN_HASH_SHIFT;
      let cand = head4[h4]!;
      prev[p] = cand;
      head4[h4] = p;
      const maxLen = remaining < LZX_MAX_MATCH_LEN ? remaining : LZX_MAX_MATCH_LEN;
      const nice = niceLength < maxLen ? niceLength : maxLen;
      // A candidate must match the 4 bytes ending one past the best length to do better.
      let tail = best >= 3 ? best - 3 : 0;
      let tailWord = words[p + tail]!;
      for (let depth = maxDepth; cand !== NIL && depth > 0; depth--) {
        if (p - cand > maxOffset) break;
        if (words[cand + tail] === tailWord && words[cand] === word) {
          let len = 4;
          for (;;) {
            const diff = words[cand + len]! ^ words[p + len]!;
            if (diff !== 0) {
              len += (31 - Math.clz32(diff & -diff)) >> 3;
              break;
            }
            len += 4;
            if (len >= maxLen) break;
          }
          if (len > maxLen) len = maxLen;
          if (len > best) {
            best = len;
            cache[w++] = (len << MATCH_LENGTH_SHIFT) | (p - cand);
            if (len >= nice) break;
            tail = len - 3;
            tailWord = words[p + tail]!;
          }
        }
        cand = prev[cand]!;
      }
    }
    return w;
  }

  /** A greedy parse over the cached matches and R0, used only to price the first search. */
  #parseGreedy(blockStart: number, blockEnd: number): number {
    const data = this.#data;
    const cache = this.#matchCache;
    const matchStart = this.#matchStart;
    const itemLength = this.#itemLength;
    const itemValue = this.#itemValue;
    let r0 = this.#r0;
    let count = 0;
    let p = blockStart;
    while (p < blockEnd) {
      const i = p - blockStart;
      const maxLen = Math.min(LZX_MAX_MATCH_LEN, blockEnd - p);
      let repLen = 0;
      if (r0 <= p) {
        while (repLen < maxLen && data[p + repLen] === data[p - r0 + repLen]) repLen++;
      }
      const last = matchStart[i + 1]! - 1;
      let len = 0;
      let offset = 0;
      if (last >= matchStart[i]!) {
        len = Math.min(cache[last]! >>> MATCH_LENGTH_SHIFT, maxLen);
        offset = cache[last]! & MATCH_OFFSET_MASK;
      }
      if (repLen >= 2 && repLen + 1 >= len) {
        itemLength[count] = repLen;
        itemValue[count++] = 0;
        p += repLen;
      } else if (len >= 3 || (len === 2 && offset < 64)) {
        itemLength[count] = len;
        itemValue[count++] = offset + LZX_OFFSET_ADJUSTMENT;
        r0 = offset;
        p += len;
      } else {
        itemLength[count] = 0;
        itemValue[count++] = data[p]!;
        p++;
      }
    }
    return count;
  }

  /** Counts main, length and aligned symbol frequencies of the current parse. */
  #countFrequencies(itemCount: number): void {
    const mainFreqs = this.#mainFreqs;
    const lengthFreqs = this.#lengthFreqs;
    const alignedFreqs = this.#alignedFreqs;
    const itemLength = this.#itemLength;
    const itemValue = this.#itemValue;
    mainFreqs.fill(0);
    lengthFreqs.fill(0);
    alignedFreqs.fill(0);
    for (let k = 0; k < itemCount; k++) {
      const len = itemLength[k]!;
      const value = itemValue[k]!;
      if (len === 0) {
        mainFreqs[value]!++;
        continue;
      }
      const slot = value < 3 ? value : lzxPositionSlot(value);
      const header = len - LZX_MIN_MATCH_LEN;
      if (header < LENGTH_HEADER_LONG) {
        mainFreqs[LZX_NUM_CHARS + (slot << 3) + header]!++;
      } else {
        mainFreqs[LZX_NUM_CHARS + (slot << 3) + LENGTH_HEADER_LONG]!++;
        lengthFreqs[header - LENGTH_HEADER_LONG]!++;
      }
      if (LZX_EXTRA_BITS[slot]! >= 3) alignedFreqs[value & 7]!++;
    }
  }

  /** Builds Huffman code lengths from the frequencies and turns them into parser costs. */
  #setCosts(): void {
    const nmain = this.#mainSymbolCount;
    buildCodeLengths(this.#mainFreqs, nmain, LZX_MAX_MAIN_CODEWORD_LEN, this.#mainLengths);
    buildCodeLengths(
      this.#lengthFreqs,
      LZX_LENGTH_CODE_SYMBOLS,
      LZX_MAX_LENGTH_CODEWORD_LEN,
      this.#lengthLengths,
    );
    const mainCost = this.#mainCost;
    const lengthCost = this.#lengthCost;
    for (let sym = 0; sym < nmain; sym++) {
      const len = this.#mainFreqs[sym] === 0 ? 0 : this.#mainLengths[sym]!;
      mainCost[sym] = len === 0 ? UNUSED_SYMBOL_COST : len;
    }
    for (let sym = 0; sym < LZX_LENGTH_CODE_SYMBOLS; sym++) {
      const len = this.#lengthFreqs[sym] === 0 ? 0 : this.#lengthLengths[sym]!;
      lengthCost[sym] = len === 0 ? UNUSED_SYMBOL_COST : len;
      this.#longLengthCost[sym + LZX_MIN_MATCH_LEN + LENGTH_HEADER_LONG] = lengthCost[sym]!;
    }
  }

  /**
   * The minimum-cost parse of one block under the current costs (see the file comment); leaves
   * the items in `#itemLength` / `#itemValue` and returns their count.
   */
  #parseOptimal(blockStart: number, blockEnd: number): number {
    const data = this.#data;
    const words = this.#words;
    const cache = this.#matchCache;
    const matchStart = this.#matchStart;
    const cost = this.#cost;
    const arrivalLength = this.#arrivalLength;
    const arrivalOffset = this.#arrivalOffset;
    const rep0 = this.#rep0;
    const rep1 = this.#rep1;
    const rep2 = this.#rep2;
    const mainCost = this.#mainCost;
    const longLengthCost = this.#longLengthCost;
    const niceLength = this.#niceLength;
    const blockSize = blockEnd - blockStart;

    let itemCount = 0;
    let segmentStart = 0;
    let reach = 0;
    cost[0] = 0;
    rep0[0] = this.#r0;
    rep1[0] = this.#r1;
    rep2[0] = this.#r2;
    let i = 0;
    for (;;) {
      if (i !== segmentStart) {
        // The repeat state here is the predecessor's, updated by the arriving item.
        const arrived = arrivalLength[i]!;
        const pred = arrived === 0 ? i - 1 : i - arrived;
        const code = arrived === 0 ? 0 : arrivalOffset[i]!;
        if (code === 0) {
          rep0[i] = rep0[pred]!;
          rep1[i] = rep1[pred]!;
          rep2[i] = rep2[pred]!;
        } else if (code === 1) {
          rep0[i] = rep1[pred]!;
          rep1[i] = rep0[pred]!;
          rep2[i] = rep2[pred]!;
        } else if (code === 2) {
          rep0[i] = rep2[pred]!;
          rep1[i] = rep1[pred]!;
          rep2[i] = rep0[pred]!;
        } else {
          rep0[i] = code - LZX_OFFSET_ADJUSTMENT;
          rep1[i] = rep0[pred]!;
          rep2[i] = rep1[pred]!;
        }
      }
      if (i === blockSize) break;
      const p = blockStart + i;
      const c = cost[i]!;
      const r0 = rep0[i]!;
      const r1 = rep1[i]!;
      const r2 = rep2[i]!;
      const maxLen = blockSize - i < LZX_MAX_MATCH_LEN ? blockSize - i : LZX_MAX_MATCH_LEN;

      // Repeat-offset match lengths.
      let len0 = 0;
      let len1 = 0;
      let len2 = 0;
      if (maxLen >= 2) {
        const word = words[p]!;
        if (r0 <= p) len0 = matchLength(words, p - r0, p, word, maxLen);
        if (r1 !== r0 && r1 <= p) len1 = matchLength(words, p - r1, p, word, maxLen);
        if (r2 !== r0 && r2 !== r1 && r2 <= p) len2 = matchLength(words, p - r2, p, word, maxLen);
      }
      const first = matchStart[i]!;
      const end = matchStart[i + 1]!;
      let longest = 0;
      if (end > first) {
        longest = cache[end - 1]! >>> MATCH_LENGTH_SHIFT;
        if (longest > maxLen) longest = maxLen;
      }
      const longestRep = len0 >= len1 ? (len0 >= len2 ? len0 : len2) : (len1 >= len2 ? len1 : len2);

      if (longestRep >= niceLength || longest >= niceLength) {
        // Take the long match as is: close the path up to here, then emit it.
        itemCount = this.#emitPath(blockStart, segmentStart, i, itemCount);
        let len: number;
        let code: number;
        let n0: number;
        let n1: number;
        let n2: number;
        if (longestRep >= longest) {
          len = longestRep;
          if (len === len0) {
            code = 0;
            n0 = r0;
            n1 = r1;
            n2 = r2;
          } else if (len === len1) {
            code = 1;
            n0 = r1;
            n1 = r0;
            n2 = r2;
          } else {
            code = 2;
            n0 = r2;
            n1 = r1;
            n2 = r0;
          }
        } else {
          len = longest;
          const offset = cache[end - 1]! & MATCH_OFFSET_MASK;
          code = offset + LZX_OFFSET_ADJUSTMENT;
          n0 = offset;
          n1 = r0;
          n2 = r1;
        }
        this.#itemLength[itemCount] = len;
        this.#itemValue[itemCount++] = code;
        i += len;
        segmentStart = i;
        reach = i;
        cost[i] = 0;
        rep0[i] = n0;
        rep1[i] = n1;
        rep2[i] = n2;
        continue;
      }

      const farthest = i + (maxLen > 1 ? maxLen : 1);
      while (reach < farthest) cost[++reach] = INFINITE_COST;

      // Literal.
      const literalCost = c + mainCost[data[p]!]!;
      if (literalCost < cost[i + 1]!) {
        cost[i + 1] = literalCost;
        arrivalLength[i + 1] = 0;
      }

      // Repeat-offset matches, every length.
      if (len0 >= 2) {
        const base = LZX_NUM_CHARS;
        const shortEnd = len0 < 8 ? len0 : 8;
        let len = 2;
        for (; len <= shortEnd; len++) {
          const total = c + mainCost[base + len - 2]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 0;
          }
        }
        const longCost = c + mainCost[base + LENGTH_HEADER_LONG]!;
        for (; len <= len0; len++) {
          const total = longCost + longLengthCost[len]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 0;
          }
        }
      }
      if (len1 >= 2) {
        const base = LZX_NUM_CHARS + 8;
        const shortEnd = len1 < 8 ? len1 : 8;
        let len = 2;
        for (; len <= shortEnd; len++) {
          const total = c + mainCost[base + len - 2]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 1;
          }
        }
        const longCost = c + mainCost[base + LENGTH_HEADER_LONG]!;
        for (; len <= len1; len++) {
          const total = longCost + longLengthCost[len]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 1;
          }
        }
      }
      if (len2 >= 2) {
        const base = LZX_NUM_CHARS + 16;
        const shortEnd = len2 < 8 ? len2 : 8;
        let len = 2;
        for (; len <= shortEnd; len++) {
          const total = c + mainCost[base + len - 2]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 2;
          }
        }
        const longCost = c + mainCost[base + LENGTH_HEADER_LONG]!;
        for (; len <= len2; len++) {
          const total = longCost + longLengthCost[len]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = 2;
          }
        }
      }

      // Explicit-offset matches: each length at the smallest offset that reaches it.
      let len = 2;
      for (let m = first; m < end; m++) {
        const packed = cache[m]!;
        let matchLen = packed >>> MATCH_LENGTH_SHIFT;
        if (matchLen > maxLen) matchLen = maxLen;
        if (matchLen < len) continue;
        const offset = packed & MATCH_OFFSET_MASK;
        if (offset === r0 || offset === r1 || offset === r2) {
          len = matchLen + 1;
          continue;
        }
        const formatted = offset + LZX_OFFSET_ADJUSTMENT;
        const slot = lzxPositionSlot(formatted);
        const base = LZX_NUM_CHARS + (slot << 3);
        const slotCost = c + LZX_EXTRA_BITS[slot]!;
        // Lengths 2-8 have their own main symbols; longer ones share one plus a length symbol.
        const shortEnd = matchLen < 8 ? matchLen : 8;
        for (; len <= shortEnd; len++) {
          const total = slotCost + mainCost[base + len - 2]!;
          if (total < cost[i + len]!) {
            cost[i + len] = total;
            arrivalLength[i + len] = len;
            arrivalOffset[i + len] = formatted;
          }
        }
        if (len <= matchLen) {
          const longCost = slotCost + mainCost[base + LENGTH_HEADER_LONG]!;
          for (; len <= matchLen; len++) {
            const total = longCost + longLengthCost[len]!;
            if (total < cost[i + len]!) {
              cost[i + len] = total;
              arrivalLength[i + len] = len;
              arrivalOffset[i + len] = formatted;
            }
          }
        }
      }
      i++;
    }
    return this.#emitPath(blockStart, segmentStart, blockSize, itemCount);
  }

  /**
   * Appends the cheapest path from `from` to `to` (block positions) to the items; the repeat
   * state at `to` is then the one the items produce.
   */
  #emitPath(blockStart: number, from: number, to: number, itemCount: number): number {
    const arrivalLength = this.#arrivalLength;
    const arrivalOffset = this.#arrivalOffset;
    const itemLength = this.#itemLength;
    const itemValue = this.#itemValue;
    let steps = 0;
    for (let j = to; j > from; steps++) {
      const len = arrivalLength[j]!;
      j -= len === 0 ? 1 : len;
    }
    let k = itemCount + steps;
    for (let j = to; j > from;) {
      const len = arrivalLength[j]!;
      k--;
      itemLength[k] = len;
      if (len === 0) {
        itemValue[k] = this.#data[blockStart + j - 1]!;
        j--;
      } else {
        itemValue[k] = arrivalOffset[j]!;
        j -= len;
      }
    }
    return itemCount + steps;
  }

  /** Writes one verbatim or aligned block for the current items. */
  #writeBlock(blockSize: number, itemCount: number): void {
    const nmain = this.#mainSymbolCount;
    const mainLengths = this.#mainLengths;
    const lengthLengths = this.#lengthLengths;
    const alignedLengths = this.#alignedLengths;
    const alignedFreqs = this.#alignedFreqs;
    this.#countFrequencies(itemCount);
    buildCodeLengths(this.#mainFreqs, nmain, LZX_MAX_MAIN_CODEWORD_LEN, mainLengths);
    let lengthSymbolsUsed = 0;
    for (let sym = 0; sym < LZX_LENGTH_CODE_SYMBOLS; sym++) {
      if (this.#lengthFreqs[sym] !== 0) lengthSymbolsUsed++;
    }
    if (lengthSymbolsUsed === 0) {
      // An empty length code is valid and costs almost nothing to send.
      lengthLengths.fill(0);
    } else {
      buildCodeLengths(
        this.#lengthFreqs,
        LZX_LENGTH_CODE_SYMBOLS,
        LZX_MAX_LENGTH_CODEWORD_LEN,
        lengthLengths,
      );
    }
    buildCodeLengths(
      alignedFreqs,
      LZX_ALIGNED_CODE_SYMBOLS,
      LZX_MAX_ALIGNED_CODEWORD_LEN,
      alignedLengths,
    );
    // Aligned block: 24 bits of aligned-code lengths, then each eligible offset's low 3 bits
    // cost their aligned codeword instead of 3 raw bits.
    let alignedGain = -LZX_ALIGNED_CODE_SYMBOLS * 3;
    for (let sym = 0; sym < LZX_ALIGNED_CODE_SYMBOLS; sym++) {
      alignedGain += alignedFreqs[sym]! * (3 - alignedLengths[sym]!);
    }
    const aligned = alignedGain > 0;

    this.#writeBits(aligned ? LZX_BLOCKTYPE_ALIGNED : LZX_BLOCKTYPE_VERBATIM, 3);
    if (blockSize === LZX_DEFAULT_BLOCK_SIZE) {
      this.#writeBits(1, 1);
    } else {
      this.#writeBits(0, 1);
      if (this.#windowOrder === 15) {
        this.#writeBits(blockSize, 16);
      } else {
        this.#writeBits(blockSize >>> 16, 8);
        this.#writeBits(blockSize & 0xffff, 16);
      }
    }
    if (aligned) {
      for (let sym = 0; sym < LZX_ALIGNED_CODE_SYMBOLS; sym++) {
        this.#writeBits(alignedLengths[sym]!, 3);
      }
    }
    const prevMain = this.#prevMainLengths;
    const prevLength = this.#prevLengthLengths;
    this.#writeCodeLengths(mainLengths, prevMain, 0, LZX_NUM_CHARS);
    this.#writeCodeLengths(mainLengths, prevMain, LZX_NUM_CHARS, nmain - LZX_NUM_CHARS);
    this.#writeCodeLengths(lengthLengths, prevLength, 0, LZX_LENGTH_CODE_SYMBOLS);
    prevMain.set(mainLengths.subarray(0, nmain));
    prevLength.set(lengthLengths);

    const mainCodewords = this.#mainCodewords;
    const lengthCodewords = this.#lengthCodewords;
    const alignedCodewords = this.#alignedCodewords;
    buildCodewords(mainLengths, nmain, LZX_MAX_MAIN_CODEWORD_LEN, mainCodewords);
    buildCodewords(
      lengthLengths,
      LZX_LENGTH_CODE_SYMBOLS,
      LZX_MAX_LENGTH_CODEWORD_LEN,
      lengthCodewords,
    );
    buildCodewords(
      alignedLengths,
      LZX_ALIGNED_CODE_SYMBOLS,
      LZX_MAX_ALIGNED_CODEWORD_LEN,
      alignedCodewords,
    );

    const itemLength = this.#itemLength;
    const itemValue = this.#itemValue;
    for (let k = 0; k < itemCount; k++) {
      const len = itemLength[k]!;
      const value = itemValue[k]!;
      if (len === 0) {
        this.#writeBits(mainCodewords[value]!, mainLengths[value]!);
        continue;
      }
      const slot = value < 3 ? value : lzxPositionSlot(value);
      const header = len - LZX_MIN_MATCH_LEN;
      const sym = LZX_NUM_CHARS + (slot << 3) +
        (header < LENGTH_HEADER_LONG ? header : LENGTH_HEADER_LONG);
      this.#writeBits(mainCodewords[sym]!, mainLengths[sym]!);
      if (header >= LENGTH_HEADER_LONG) {
        const lengthSym = header - LENGTH_HEADER_LONG;
        this.#writeBits(lengthCodewords[lengthSym]!, lengthLengths[lengthSym]!);
      }
      if (slot < 3) continue;
      const extra = LZX_EXTRA_BITS[slot]!;
      const bits = value - LZX_POSITION_BASES[slot]!;
      if (aligned && extra >= 3) {
        this.#writeBits(bits >>> 3, extra - 3);
        this.#writeBits(alignedCodewords[bits & 7]!, alignedLengths[bits & 7]!);
      } else if (extra > 16) {
        this.#writeBits(bits >>> 16, extra - 16);
        this.#writeBits(bits & 0xffff, 16);
      } else {
        this.#writeBits(bits, extra);
      }
    }
  }

  /**
   * Writes `count` code lengths from `start` as a pretree and pretree-coded deltas against
   * `prev` (wim-codecs.md §3.4).
   */
  #writeCodeLengths(lengths: Uint8Array, prev: Uint8Array, start: number, count: number): void {
    const items = this.#pretreeItems;
    const freqs = this.#pretreeFreqs;
    freqs.fill(0);
    let m = 0;
    let i = 0;
    while (i < count) {
      const v = lengths[start + i]!;
      let run = 1;
      while (i + run < count && lengths[start + i + run] === v) run++;
      if (v === 0) {
        while (run >= 20) {
          const r = run < 51 ? run : 51;
          items[m++] = PRETREE_ZERO_RUN_LONG | ((r - 20) << 5);
          freqs[PRETREE_ZERO_RUN_LONG]!++;
          i += r;
          run -= r;
        }
        if (run >= 4) {
          items[m++] = PRETREE_ZERO_RUN_SHORT | ((run - 4) << 5);
          freqs[PRETREE_ZERO_RUN_SHORT]!++;
          i += run;
          run = 0;
        }
      } else {
        while (run >= 4) {
          const r = run < 5 ? run : 5;
          const q = (prev[start + i]! - v + 17) % 17;
          items[m++] = PRETREE_SAME_RUN | ((r - 4) << 5);
          items[m++] = q;
          freqs[PRETREE_SAME_RUN]!++;
          freqs[q]!++;
          i += r;
          run -= r;
        }
      }
      for (; run > 0; run--, i++) {
        const q = (prev[start + i]! - v + 17) % 17;
        items[m++] = q;
        freqs[q]!++;
      }
    }
    const pretreeLengths = this.#pretreeLengths;
    const pretreeCodewords = this.#pretreeCodewords;
    buildCodeLengths(freqs, LZX_PRETREE_SYMBOLS, LZX_MAX_PRETREE_CODEWORD_LEN, pretreeLengths);
    buildCodewords(
      pretreeLengths,
      LZX_PRETREE_SYMBOLS,
      LZX_MAX_PRETREE_CODEWORD_LEN,
      pretreeCodewords,
    );
    for (let sym = 0; sym < LZX_PRETREE_SYMBOLS; sym++) {
      this.#writeBits(pretreeLengths[sym]!, LZX_PRETREE_LENGTH_BITS);
    }
    for (let k = 0; k < m; k++) {
      const item = items[k]!;
      const sym = item & 31;
      this.#writeBits(pretreeCodewords[sym]!, pretreeLengths[sym]!);
      if (sym === PRETREE_ZERO_RUN_SHORT) this.#writeBits(item >>> 5, 4);
      else if (sym === PRETREE_ZERO_RUN_LONG) this.#writeBits(item >>> 5, 5);
      else if (sym === PRETREE_SAME_RUN) this.#writeBits(item >>> 5, 1);
    }
  }

  /** Appends `count` bits (at most 16) of `value`, most significant first. */
  #writeBits(value: number, count: number): void {
    let bitBuf = (this.#bitBuf << count) | value;
    let bitCount = this.#bitCount + count;
    if (bitCount >= 16) {
      bitCount -= 16;
      const word = bitBuf >>> bitCount;
      const out = this.#out;
      out[this.#outPos] = word;
      out[this.#outPos + 1] = word >>> 8;
      this.#outPos += 2;
      bitBuf &= (1 << bitCount) - 1;
    }
    this.#bitBuf = bitBuf;
    this.#bitCount = bitCount;
  }
}

/**
 * Returns how many bytes (at most `maxLen`) at `q` equal those at `p`, where `word` is
 * `words[p]`; compares 4 bytes at a time.
 */
function matchLength(
  words: Int32Array,
  q: number,
  p: number,
  word: number,
  maxLen: number,
): number {
  let diff = words[q]! ^ word;
  let len = 0;
  while (diff === 0) {
    len += 4;
    if (len >= maxLen) return maxLen;
    diff = words[q + len]! ^ words[p + len]!;
  }
  len += (31 - Math.clz32(diff & -diff)) >> 3;
  return len < maxLen ? len : maxLen;
}
