/**
 * LZMS chunk compressor.
 *
 * Writes the two streams of an LZMS chunk (wim-codecs.md §4.1, §4.9): a binary range coder going
 * forwards from the start of `dst` for the item-type decisions, driven by the adaptive
 * probabilities of §4.3, and a bit stream going backwards from the end of `dst` for the adaptive
 * Huffman symbols and raw extra bits of §4.4. At the end the backward bytes are moved down to sit
 * right after the forward ones; the chunk fails (returns 0) if the streams would meet. The input is
 * copied and run through the x86 filter first (§4.7); `src` is never modified.
 *
 * Parsing is a minimum-cost forward search over pieces of about {@linkcode BLOCK_SIZE} bytes (the
 * doc's 2048-byte re-planning horizon): every position of a piece gets its literal, LZ repeat
 * (3 queue slots), explicit LZ (from a binary-tree match finder) and delta (repeat slots plus a
 * hash of "difference" bytes per span) candidates, priced with bit costs taken from the live
 * adaptive state at the start of the piece (probabilities and current code lengths). Each node
 * carries the decision-class states and both repeat queues of its best path, so repeat items and
 * the queue's "pending" rule (§4.6) are priced exactly. The chosen path is then encoded with the
 * real, evolving state; the Huffman codes are counted and rebuilt at exactly the decoder's moments.
 *
 * Trade-offs: costs are frozen for the length of a piece (the state drifts inside it); a match
 * reaching {@linkcode niceLength} ends the piece and is taken whole; the match finder
 * (lib/codecs/lzms_match_finder.ts) searches a bounded window, so older data of a solid chunk is
 * reached through repeat offsets only.
 */

import type { ChunkCompressor } from "./codec.ts";
import {
  buildLzmsCodeLengths,
  LZMS_DELTA_OFFSET_CODE_REBUILD_FREQ,
  LZMS_DELTA_POWER_CODE_REBUILD_FREQ,
  LZMS_LENGTH_CODE_REBUILD_FREQ,
  LZMS_LENGTH_SLOT_BASE,
  LZMS_LENGTH_SLOT_EXTRA_BITS,
  LZMS_LITERAL_CODE_REBUILD_FREQ,
  LZMS_LZ_OFFSET_CODE_REBUILD_FREQ,
  LZMS_MAX_CHUNK_SIZE,
  LZMS_MAX_NUM_OFFSET_SYMS,
  LZMS_NUM_DELTA_POWER_SYMS,
  LZMS_NUM_LENGTH_SYMS,
  LZMS_NUM_LITERAL_SYMS,
  LZMS_NUM_PROB_ENTRIES,
  LZMS_OFFSET_SLOT_BASE,
  LZMS_OFFSET_SLOT_EXTRA_BITS,
  LZMS_P0_BY_ZEROS,
  LZMS_PROB_DELTA,
  LZMS_PROB_DELTA_REP0,
  LZMS_PROB_DELTA_REP1,
  LZMS_PROB_LZ,
  LZMS_PROB_LZ_REP0,
  LZMS_PROB_LZ_REP1,
  LZMS_PROB_MAIN,
  LZMS_PROB_MATCH,
  LZMS_PROB_STRIDE,
  LZMS_X86_TARGET_TABLE_SIZE,
  LzmsCodeScratch,
  lzmsLengthSlot,
  lzmsOffsetSlot,
  lzmsOffsetSlotCount,
  lzmsX86Filter,
  resetLzmsProbabilities,
} from "./lzms_common.ts";
import {
  LZMS_MAX_MATCH_REPORT,
  LZMS_MAX_MATCHES_PER_POS,
  LzmsMatchFinder,
  type LzmsMatchSource,
} from "./lzms_match_finder.ts";

/** wimlib's default compression level. */
const DEFAULT_LEVEL = 50;
/** Positions planned per piece before the path is committed (wimlib: at most 2048). */
const BLOCK_SIZE = 2048;
/** Longest match length the parser prices length by length. */
const MAX_NICE_LENGTH = LZMS_MAX_MATCH_REPORT;
/** Nodes per piece: the planned positions plus room for matches that cross its end. */
const MAX_NODES = BLOCK_SIZE + MAX_NICE_LENGTH + 2;
/** Delta spans tried by the delta match finder: 1 << 0 ... 1 << (count - 1). */
const DELTA_POWERS = 6;
/** Hash bits of each delta-span table. */
const DELTA_HASH_BITS = 15;
/** Difference bytes hashed by the second ("long context") delta table. */
const DELTA_LONG_CONTEXT = 16;
/** The long-context delta table is consulted only after a short candidate this long. */
const DELTA_LONG_MIN_SHORT = 8;
/** Shortest delta match worth pricing. */
const MIN_DELTA_LENGTH = 3;

/** Cost unit: 1 bit = 64. */
const BIT_COST = 64;
const INFINITE_COST = 0x3fffffff;

const ITEM_LITERAL = 0;
const ITEM_LZ = 1;
const ITEM_DELTA = 2;

/** Node item kinds (how a node was reached). */
const KIND_LITERAL = 0;
const KIND_LZ_EXPLICIT = 1;
const KIND_LZ_REP = 2; // + rep index 0..2
const KIND_DELTA_EXPLICIT = 5;
const KIND_DELTA_REP = 6; // + rep index 0..2

/** Cost of coding a 0 bit (index 0..64 = zeros in the history) and of a 1 bit (index + 65). */
const BIT_COST_BY_ZEROS: Int32Array = (() => {
  const table = new Int32Array(130);
  for (let z = 0; z <= 64; z++) {
    const p0 = LZMS_P0_BY_ZEROS[z]!;
    table[z] = Math.round(-Math.log2(p0 / 64) * BIT_COST);
    table[65 + z] = Math.round(-Math.log2((64 - p0) / 64) * BIT_COST);
  }
  return table;
})();

/** Length slot of each length up to {@linkcode LENGTH_SLOT_TABLE_SIZE} - 1. */
const LENGTH_SLOT_TABLE_SIZE = 4096;
const LENGTH_SLOT_BY_LENGTH: Uint8Array = (() => {
  const table = new Uint8Array(LENGTH_SLOT_TABLE_SIZE);
  for (let len = 1; len < LENGTH_SLOT_TABLE_SIZE; len++) table[len] = lzmsLengthSlot(len);
  return table;
})();

/** Offset slot of each offset below {@linkcode OFFSET_SLOT_TABLE_SIZE}. */
const OFFSET_SLOT_TABLE_SIZE = 1 << 16;
const OFFSET_SLOT_BY_OFFSET: Uint16Array = (() => {
  const table = new Uint16Array(OFFSET_SLOT_TABLE_SIZE);
  let slot = 0;
  for (let off = 1; off < OFFSET_SLOT_TABLE_SIZE; off++) {
    while (LZMS_OFFSET_SLOT_BASE[slot + 1]! <= off) slot++;
    table[off] = slot;
  }
  return table;
})();

function offsetSlot(offset: number): number {
  return offset < OFFSET_SLOT_TABLE_SIZE ? OFFSET_SLOT_BY_OFFSET[offset]! : lzmsOffsetSlot(offset);
}

function lengthSlot(length: number): number {
  return length < LENGTH_SLOT_TABLE_SIZE ? LENGTH_SLOT_BY_LENGTH[length]! : lzmsLengthSlot(length);
}

/** One adaptive Huffman code on the encoder side: frequencies, lengths, canonical codewords. */
class AdaptiveEncodeCode {
  symbolCount = 0;
  countdown = 0;
  readonly period: number;
  readonly freqs: Uint32Array;
  readonly lengths: Uint8Array;
  readonly codewords: Uint16Array;

  constructor(maxSymbols: number, period: number) {
    this.period = period;
    this.freqs = new Uint32Array(maxSymbols);
    this.lengths = new Uint8Array(maxSymbols);
    this.codewords = new Uint16Array(maxSymbols);
  }
}

/** Tuning derived from the compression level. */
interface LzmsParams {
  niceLength: number;
  maxSearchDepth: number;
  useDelta: boolean;
}

function paramsForLevel(level: number): LzmsParams {
  return {
    niceLength: Math.max(16, Math.min(MAX_NICE_LENGTH, Math.floor((63 * level) / 50))),
    maxSearchDepth: Math.max(4, Math.min(1000, Math.floor((32 * level) / 50))),
    useDelta: level >= 35,
  };
}

/**
 * Compresses chunks with LZMS (the "recovery" format of ESD files and solid WIMs), one per call.
 *
 * The object owns its buffers and reuses them between chunks; its match finder's grow with the
 * largest chunk seen, to about 40 MiB (8 bytes per byte of its 4 MiB window, plus hash tables),
 * and the chunk is filtered in place, not copied. Output decodes with
 * {@linkcode LzmsDecompressor} and with wimlib/WIMGAPI-compatible decoders.
 *
 * @example Compress and decompress a chunk
 * ```ts
 * import { LzmsCompressor } from "./lzms_compress.ts";
 * import { LzmsDecompressor } from "./lzms_decompress.ts";
 * import assert from "node:assert/strict";
 * const src = new TextEncoder().encode("abc".repeat(1000));
 * const dst = new Uint8Array(src.length - 1);
 * const size = new LzmsCompressor().compress(src, dst);
 * assert.ok(size > 0 && size < 50);
 * const out = new Uint8Array(src.length);
 * new LzmsDecompressor().decompress(dst.subarray(0, size), out);
 * assert.deepEqual(out, src);
 * ```
 */
export class LzmsCompressor implements ChunkCompressor {
  readonly #params: LzmsParams;

  // ---- adaptive state (mirrors the decoder) ----
  #literalCode = new AdaptiveEncodeCode(LZMS_NUM_LITERAL_SYMS, LZMS_LITERAL_CODE_REBUILD_FREQ);
  #lzOffsetCode = new AdaptiveEncodeCode(
    LZMS_MAX_NUM_OFFSET_SYMS,
    LZMS_LZ_OFFSET_CODE_REBUILD_FREQ,
  );
  #lengthCode = new AdaptiveEncodeCode(LZMS_NUM_LENGTH_SYMS, LZMS_LENGTH_CODE_REBUILD_FREQ);
  #deltaOffsetCode = new AdaptiveEncodeCode(
    LZMS_MAX_NUM_OFFSET_SYMS,
    LZMS_DELTA_OFFSET_CODE_REBUILD_FREQ,
  );
  #deltaPowerCode = new AdaptiveEncodeCode(
    LZMS_NUM_DELTA_POWER_SYMS,
    LZMS_DELTA_POWER_CODE_REBUILD_FREQ,
  );
  #codeScratch = new LzmsCodeScratch();
  #nextCodeword = new Uint32Array(17);
  #probs = new Int32Array(LZMS_NUM_PROB_ENTRIES * LZMS_PROB_STRIDE);
  /** Class states: main, match, lz, lz_rep0, lz_rep1, delta, delta_rep0, delta_rep1. */
  #states = new Int32Array(8);
  #lzQueue = new Int32Array(4);
  #deltaQueuePower = new Int32Array(4);
  #deltaQueueRaw = new Int32Array(4);
  #prevItem = ITEM_LITERAL;

  // ---- output streams ----
  #dst: Uint8Array = new Uint8Array(0);
  #overflow = false;
  #low = 0;
  #range = 0xffffffff;
  #cache = 0;
  #pending = 1;
  #firstUnit = true;
  #forwardPos = 0;
  #bitBuf = 0;
  #bitCount = 0;
  #backPos = 0;

  // ---- input and match finding ----
  /** The chunk being encoded, x86-filtered (empty between calls). */
  #data: Uint8Array = new Uint8Array(0);
  #x86Usages = new Int32Array(LZMS_X86_TARGET_TABLE_SIZE + 1);
  readonly #finder: LzmsMatchFinder;
  #matches: LzmsMatchSource;
  #deltaHead = new Int32Array(DELTA_POWERS << DELTA_HASH_BITS);
  #deltaLongHead = new Int32Array(DELTA_POWERS << DELTA_HASH_BITS);
  /** Positions below this have been entered in the delta tables. */
  #deltaInsertedTo = 0;

  // ---- parser nodes ----
  #nodeCost = new Int32Array(MAX_NODES + 1);
  #nodeFrom = new Int32Array(MAX_NODES + 1);
  #nodeKind = new Uint8Array(MAX_NODES + 1);
  #nodeLength = new Int32Array(MAX_NODES + 1);
  #nodeOffset = new Int32Array(MAX_NODES + 1);
  #nodePower = new Uint8Array(MAX_NODES + 1);
  #nodeStates = new Uint8Array((MAX_NODES + 1) * 8);
  #nodeLzQueue = new Int32Array((MAX_NODES + 1) * 4);
  #nodeDeltaPower = new Uint8Array((MAX_NODES + 1) * 4);
  #nodeDeltaRaw = new Int32Array((MAX_NODES + 1) * 4);
  #nodePrev = new Uint8Array(MAX_NODES + 1);
  #pathNodes = new Int32Array(MAX_NODES + 1);
  /** Matches found at one position: (length, offset) pairs, lengths increasing. */
  #matchLengths = new Int32Array(LZMS_MAX_MATCHES_PER_POS);
  #matchOffsets = new Int32Array(LZMS_MAX_MATCHES_PER_POS);
  #matchCount = 0;
  /** Position whose matches are in the match arrays (-1: none). */
  #matchPos = -1;

  // ---- cost tables (refreshed per piece) ----
  #bitCost0 = new Int32Array(LZMS_NUM_PROB_ENTRIES);
  #bitCost1 = new Int32Array(LZMS_NUM_PROB_ENTRIES);
  #literalCost = new Int32Array(256);
  #lengthCost = new Int32Array(MAX_NICE_LENGTH + 1);
  #lzOffsetSlotCost = new Int32Array(LZMS_MAX_NUM_OFFSET_SYMS);
  #deltaOffsetSlotCost = new Int32Array(LZMS_MAX_NUM_OFFSET_SYMS);
  #deltaPowerCost = new Int32Array(LZMS_NUM_DELTA_POWER_SYMS);

  /**
   * Creates a compressor.
   *
   * @param options `level`: wimlib's scale (default 50); higher searches harder.
   */
  constructor(options: { level?: number } = {}) {
    const level = options.level ?? DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < 1) {
      throw new RangeError(`Cannot create LZMS compressor: level is ${level}, expected >= 1`);
    }
    this.#params = paramsForLevel(level);
    this.#finder = this.createMatchFinder();
    this.#matches = this.#finder;
  }

  /**
   * Encodes `src` into `dst`; returns the compressed size, or 0 if it does not fit in `dst`.
   *
   * `src` is run through the x86 filter in place during the call and restored before it returns,
   * so the encoder needs no copy of a chunk (solid chunks are 64 MiB).
   *
   * @param src One chunk, 1 byte to 1 GiB.
   * @param dst Output buffer; WIM writers pass `src.length - 1` bytes.
   */
  compress(src: Uint8Array, dst: Uint8Array): number {
    if (src.length === 0 || src.length > LZMS_MAX_CHUNK_SIZE) return 0;
    lzmsX86Filter(src, this.#x86Usages, false);
    try {
      this.#finder.reset(src);
      const outLimit = dst.length & ~1;
      if (!this.#encodeStreams(src, dst, outLimit, this.#finder)) return 0;
      const forwardEnd = this.#forwardPos;
      dst.copyWithin(forwardEnd, this.#backPos, outLimit);
      return forwardEnd + outLimit - this.#backPos;
    } finally {
      lzmsX86Filter(src, this.#x86Usages, true);
    }
  }

  /**
   * A match finder that searches as this compressor's own does, for {@linkcode compressFiltered}
   * with the finder on another thread (lib/codecs/lzms_match_ring.ts).
   *
   * @example
   * ```ts
   * import { LzmsCompressor } from "./lzms_compress.ts";
   * import assert from "node:assert/strict";
   * assert.ok(new LzmsCompressor({ level: 80 }).createMatchFinder());
   * ```
   */
  createMatchFinder(): LzmsMatchFinder {
    return new LzmsMatchFinder(this.#params.niceLength, this.#params.maxSearchDepth);
  }

  /**
   * Encodes `data`, already run through {@linkcode lzmsX86Filter}, taking its LZ matches from
   * `matches` (which must read the same bytes); returns the compressed chunk, a view of `dst` that
   * need not start at its start (so a large `dst` is touched no more than the output needs), or
   * null if it does not fit in `dst`. {@linkcode compress} is this with its own match finder.
   *
   * @example
   * ```ts
   * import { LzmsCompressor } from "./lzms_compress.ts";
   * import { LzmsMatchFinder } from "./lzms_match_finder.ts";
   * import assert from "node:assert/strict";
   * const data = new TextEncoder().encode("plain text, no x86 code ".repeat(100));
   * const finder = new LzmsMatchFinder(63, 32);
   * finder.reset(data);
   * const dst = new Uint8Array(data.length - 1);
   * const out = new LzmsCompressor().compressFiltered(data, dst, finder);
   * assert.ok(out !== null && out.length < 200);
   * ```
   */
  compressFiltered(
    data: Uint8Array,
    dst: Uint8Array,
    matches: LzmsMatchSource,
  ): Uint8Array | null {
    const outLimit = dst.length & ~1;
    if (!this.#encodeStreams(data, dst, outLimit, matches)) return null;
    const forwardEnd = this.#forwardPos;
    const backStart = this.#backPos;
    // The forward stream is usually the smaller: moving it up to the backward one touches fewer
    // new pages of a large dst than moving the backward one down.
    if (forwardEnd <= outLimit - backStart) {
      dst.copyWithin(backStart - forwardEnd, 0, forwardEnd);
      return dst.subarray(backStart - forwardEnd, outLimit);
    }
    dst.copyWithin(forwardEnd, backStart, outLimit);
    return dst.subarray(0, forwardEnd + outLimit - backStart);
  }

  /**
   * Encodes `data` into `dst`'s first `outLimit` bytes: the forward stream ends at `#forwardPos`,
   * the backward one starts at `#backPos`. False if the chunk is empty, too large or does not fit.
   */
  #encodeStreams(
    data: Uint8Array,
    dst: Uint8Array,
    outLimit: number,
    matches: LzmsMatchSource,
  ): boolean {
    const n = data.length;
    if (n === 0 || n > LZMS_MAX_CHUNK_SIZE || outLimit < 4) return false;
    this.#data = data;
    this.#matches = matches;
    this.#deltaHead.fill(-1);
    this.#deltaLongHead.fill(-1);
    this.#deltaInsertedTo = 0;
    this.#matchPos = -1;
    this.#resetState(n, dst, outLimit);
    try {
      this.#parseAndEncode();
      if (!this.#overflow) this.#finishStreams();
    } finally {
      this.#data = new Uint8Array(0);
      this.#matches = this.#finder;
    }
    return !this.#overflow && this.#forwardPos <= this.#backPos;
  }

  #resetState(n: number, dst: Uint8Array, outLimit: number): void {
    const nslots = lzmsOffsetSlotCount(n);
    this.#resetCode(this.#literalCode, LZMS_NUM_LITERAL_SYMS);
    this.#resetCode(this.#lzOffsetCode, nslots);
    this.#resetCode(this.#lengthCode, LZMS_NUM_LENGTH_SYMS);
    this.#resetCode(this.#deltaOffsetCode, nslots);
    this.#resetCode(this.#deltaPowerCode, LZMS_NUM_DELTA_POWER_SYMS);
    resetLzmsProbabilities(this.#probs);
    this.#states.fill(0);
    this.#lzQueue.set([1, 2, 3, 4]);
    this.#deltaQueuePower.fill(0);
    this.#deltaQueueRaw.set([1, 2, 3, 4]);
    this.#prevItem = ITEM_LITERAL;

    this.#dst = dst;
    this.#overflow = false;
    this.#low = 0;
    this.#range = 0xffffffff;
    this.#cache = 0;
    this.#pending = 1;
    this.#firstUnit = true;
    this.#forwardPos = 0;
    this.#bitBuf = 0;
    this.#bitCount = 0;
    this.#backPos = outLimit;
  }

  // ======================= adaptive Huffman codes =======================

  #resetCode(code: AdaptiveEncodeCode, symbolCount: number): void {
    code.symbolCount = symbolCount;
    code.freqs.fill(1, 0, symbolCount);
    this.#buildCode(code);
    code.countdown = code.period;
  }

  /** Derives lengths (exactly as the decoder) and canonical codewords from the frequencies. */
  #buildCode(code: AdaptiveEncodeCode): void {
    const scratch = this.#codeScratch;
    const maxLength = buildLzmsCodeLengths(code.freqs, code.symbolCount, code.lengths, scratch);
    const counts = scratch.depthCounts;
    const next = this.#nextCodeword;
    let value = 0;
    next[1] = 0;
    for (let len = 2; len <= maxLength; len++) {
      value = (value + counts[len - 1]!) << 1;
      next[len] = value;
    }
    const lengths = code.lengths;
    const codewords = code.codewords;
    for (let sym = 0; sym < code.symbolCount; sym++) codewords[sym] = next[lengths[sym]!]!++;
  }

  /** Writes one symbol and advances the code's life cycle (§4.4). */
  #encodeSymbol(code: AdaptiveEncodeCode, sym: number): void {
    this.#putBits(code.codewords[sym]!, code.lengths[sym]!);
    code.freqs[sym]!++;
    if (--code.countdown === 0) {
      this.#buildCode(code);
      const freqs = code.freqs;
      for (let s = 0; s < code.symbolCount; s++) freqs[s] = (freqs[s]! >>> 1) + 1;
      code.countdown = code.period;
    }
  }

  // ======================= backward bit stream =======================

  /** Appends `count` (0..16) bits of `value`, MSB first. */
  #putBits(value: number, count: number): void {
    let bitBuf = (this.#bitBuf << count) | value;
    let bitCount = this.#bitCount + count;
    if (bitCount >= 16) {
      bitCount -= 16;
      const word = (bitBuf >>> bitCount) & 0xffff;
      bitBuf &= (1 << bitCount) - 1;
      const at = this.#backPos - 2;
      if (at < this.#forwardPos) {
        this.#overflow = true;
      } else {
        this.#dst[at] = word;
        this.#dst[at + 1] = word >>> 8;
        this.#backPos = at;
      }
    }
    this.#bitBuf = bitBuf;
    this.#bitCount = bitCount;
  }

  /** Appends `count` (0..30) extra bits. */
  #putExtraBits(value: number, count: number): void {
    if (count > 16) {
      this.#putBits(value >>> 16, count - 16);
      this.#putBits(value & 0xffff, 16);
    } else if (count > 0) {
      this.#putBits(value, count);
    }
  }

  // ======================= range encoder =======================

  #emitUnit(unit: number): void {
    if (this.#firstUnit) {
      this.#firstUnit = false;
      return;
    }
    const at = this.#forwardPos;
    if (at + 2 > this.#backPos) {
      this.#overflow = true;
      return;
    }
    this.#dst[at] = unit;
    this.#dst[at + 1] = unit >>> 8;
    this.#forwardPos = at + 2;
  }

  #shiftLow(): void {
    const low = this.#low;
    if (low < 0xffff0000 || low >= 0x100000000) {
      const carry = low >= 0x100000000 ? 1 : 0;
      this.#emitUnit((this.#cache + carry) & 0xffff);
      for (let k = this.#pending - 1; k > 0; k--) this.#emitUnit((0xffff + carry) & 0xffff);
      this.#pending = 0;
      this.#cache = Math.floor(low / 65536) & 0xffff;
    }
    this.#pending++;
    this.#low = (low & 0xffff) * 65536;
  }

  /** Encodes `bit` with probability entry `entry` and updates the entry (§4.3). */
  #encodeBit(entry: number, bit: number): void {
    if (this.#range <= 0xffff) {
      this.#range = this.#range * 65536;
      this.#shiftLow();
    }
    const probs = this.#probs;
    const slot = entry << 2;
    const zeros = probs[slot + 2]!;
    const bound = (this.#range >>> 6) * LZMS_P0_BY_ZEROS[zeros]!;
    const high = probs[slot]!;
    const low = probs[slot + 1]!;
    probs[slot] = (high << 1) | (low >>> 31);
    if (bit === 0) {
      this.#range = bound;
      probs[slot + 1] = low << 1;
      probs[slot + 2] = zeros + (high >>> 31);
    } else {
      this.#low += bound;
      this.#range -= bound;
      probs[slot + 1] = (low << 1) | 1;
      probs[slot + 2] = zeros + (high >>> 31) - 1;
    }
  }

  /** Encodes a decision in the class at `base` whose state is `states[which]` (mask `mask`). */
  #encodeDecision(base: number, which: number, mask: number, bit: number): void {
    const states = this.#states;
    const state = states[which]!;
    this.#encodeBit(base + state, bit);
    states[which] = ((state << 1) | bit) & mask;
  }

  #finishStreams(): void {
    for (let k = 0; k < 4; k++) this.#shiftLow();
    if (this.#bitCount > 0) {
      const word = (this.#bitBuf << (16 - this.#bitCount)) & 0xffff;
      const at = this.#backPos - 2;
      if (at < this.#forwardPos) {
        this.#overflow = true;
      } else {
        this.#dst[at] = word;
        this.#dst[at + 1] = word >>> 8;
        this.#backPos = at;
      }
      this.#bitCount = 0;
    }
  }

  // ======================= items =======================

  #encodeLiteral(byte: number): void {
    this.#encodeDecision(LZMS_PROB_MAIN, 0, 15, 0);
    this.#encodeSymbol(this.#literalCode, byte);
    this.#prevItem = ITEM_LITERAL;
  }

  #encodeLength(length: number): void {
    const slot = lengthSlot(length);
    this.#encodeSymbol(this.#lengthCode, slot);
    this.#putExtraBits(length - LZMS_LENGTH_SLOT_BASE[slot]!, LZMS_LENGTH_SLOT_EXTRA_BITS[slot]!);
  }

  /** Encodes an LZ match; `repIndex` 0..2 names a queue slot, -1 means explicit `offset`. */
  #encodeLzMatch(length: number, offset: number, repIndex: number): void {
    this.#encodeDecision(LZMS_PROB_MAIN, 0, 15, 1);
    this.#encodeDecision(LZMS_PROB_MATCH, 1, 31, 0);
    const queue = this.#lzQueue;
    if (repIndex < 0) {
      this.#encodeDecision(LZMS_PROB_LZ, 2, 63, 0);
      const slot = offsetSlot(offset);
      this.#encodeSymbol(this.#lzOffsetCode, slot);
      this.#putExtraBits(offset - LZMS_OFFSET_SLOT_BASE[slot]!, LZMS_OFFSET_SLOT_EXTRA_BITS[slot]!);
      queue[3] = queue[2]!;
      queue[2] = queue[1]!;
      queue[1] = queue[0]!;
      queue[0] = offset;
    } else {
      this.#encodeDecision(LZMS_PROB_LZ, 2, 63, 1);
      this.#encodeDecision(LZMS_PROB_LZ_REP0, 3, 63, repIndex === 0 ? 0 : 1);
      if (repIndex > 0) this.#encodeDecision(LZMS_PROB_LZ_REP1, 4, 63, repIndex === 1 ? 0 : 1);
      const j = repIndex + (this.#prevItem === ITEM_LZ ? 1 : 0);
      const used = queue[j]!;
      for (let k = j; k > 0; k--) queue[k] = queue[k - 1]!;
      queue[0] = used;
    }
    this.#encodeLength(length);
    this.#prevItem = ITEM_LZ;
  }

  /** Encodes a delta match; `repIndex` 0..2 names a queue slot, -1 means explicit (power, raw). */
  #encodeDeltaMatch(length: number, power: number, raw: number, repIndex: number): void {
    this.#encodeDecision(LZMS_PROB_MAIN, 0, 15, 1);
    this.#encodeDecision(LZMS_PROB_MATCH, 1, 31, 1);
    const powers = this.#deltaQueuePower;
    const raws = this.#deltaQueueRaw;
    if (repIndex < 0) {
      this.#encodeDecision(LZMS_PROB_DELTA, 5, 63, 0);
      this.#encodeSymbol(this.#deltaPowerCode, power);
      const slot = offsetSlot(raw);
      this.#encodeSymbol(this.#deltaOffsetCode, slot);
      this.#putExtraBits(raw - LZMS_OFFSET_SLOT_BASE[slot]!, LZMS_OFFSET_SLOT_EXTRA_BITS[slot]!);
      for (let k = 3; k > 0; k--) {
        powers[k] = powers[k - 1]!;
        raws[k] = raws[k - 1]!;
      }
      powers[0] = power;
      raws[0] = raw;
    } else {
      this.#encodeDecision(LZMS_PROB_DELTA, 5, 63, 1);
      this.#encodeDecision(LZMS_PROB_DELTA_REP0, 6, 63, repIndex === 0 ? 0 : 1);
      if (repIndex > 0) {
        this.#encodeDecision(LZMS_PROB_DELTA_REP1, 7, 63, repIndex === 1 ? 0 : 1);
      }
      const j = repIndex + (this.#prevItem === ITEM_DELTA ? 1 : 0);
      const usedPower = powers[j]!;
      const usedRaw = raws[j]!;
      for (let k = j; k > 0; k--) {
        powers[k] = powers[k - 1]!;
        raws[k] = raws[k - 1]!;
      }
      powers[0] = usedPower;
      raws[0] = usedRaw;
    }
    this.#encodeLength(length);
    this.#prevItem = ITEM_DELTA;
  }

  // ======================= match finding =======================

  /** Enters positions `from`..`to - 1` in the match finder without recording matches. */
  #skipPositions(from: number, to: number, n: number): void {
    const matches = this.#matches;
    const lengths = this.#matchLengths;
    const offsets = this.#matchOffsets;
    const last = to < n - 2 ? to : n - 2;
    for (let pos = from; pos < last; pos++) matches.find(pos, lengths, offsets, false);
  }

  // ======================= cost tables =======================

  #refreshCosts(): void {
    const probs = this.#probs;
    const cost0 = this.#bitCost0;
    const cost1 = this.#bitCost1;
    for (let e = 0; e < LZMS_NUM_PROB_ENTRIES; e++) {
      const zeros = probs[(e << 2) + 2]!;
      cost0[e] = BIT_COST_BY_ZEROS[zeros]!;
      cost1[e] = BIT_COST_BY_ZEROS[65 + zeros]!;
    }
    const litLengths = this.#literalCode.lengths;
    const literalCost = this.#literalCost;
    for (let b = 0; b < 256; b++) literalCost[b] = litLengths[b]! * BIT_COST;
    const lenLengths = this.#lengthCode.lengths;
    const lengthCost = this.#lengthCost;
    for (let len = 1; len <= MAX_NICE_LENGTH; len++) {
      const slot = LENGTH_SLOT_BY_LENGTH[len]!;
      lengthCost[len] = (lenLengths[slot]! + LZMS_LENGTH_SLOT_EXTRA_BITS[slot]!) * BIT_COST;
    }
    const nslots = this.#lzOffsetCode.symbolCount;
    const lzLengths = this.#lzOffsetCode.lengths;
    const deltaLengths = this.#deltaOffsetCode.lengths;
    const lzCost = this.#lzOffsetSlotCost;
    const deltaCost = this.#deltaOffsetSlotCost;
    for (let s = 0; s < nslots; s++) {
      const extra = LZMS_OFFSET_SLOT_EXTRA_BITS[s]!;
      lzCost[s] = (lzLengths[s]! + extra) * BIT_COST;
      deltaCost[s] = (deltaLengths[s]! + extra) * BIT_COST;
    }
    const powerLengths = this.#deltaPowerCode.lengths;
    for (let p = 0; p < LZMS_NUM_DELTA_POWER_SYMS; p++) {
      this.#deltaPowerCost[p] = powerLengths[p]! * BIT_COST;
    }
  }

  // ======================= parser =======================

  #parseAndEncode(): void {
    const n = this.#data.length;
    let pos = 0;
    while (pos < n && !this.#overflow) pos = this.#parseBlock(pos, n);
  }

  /** Computes the length of an LZ match at `pos` with `offset`, up to `limit`. */
  #lzMatchLength(pos: number, offset: number, limit: number): number {
    const data = this.#data;
    let len = 0;
    while (len < limit && data[pos + len] === data[pos + len - offset]) len++;
    return len;
  }

  /** Computes the length of a delta match at `pos` (span `span`, offset `offset`), up to `limit`. */
  #deltaMatchLength(pos: number, offset: number, span: number, limit: number): number {
    const data = this.#data;
    let len = 0;
    while (
      len < limit &&
      ((data[pos + len]! - data[pos + len - span]! - data[pos + len - offset]! +
          data[pos + len - offset - span]!) & 0xff) === 0
    ) {
      len++;
    }
    return len;
  }

  /**
   * Plans and encodes one piece starting at `start`; returns the position after it.
   */
  #parseBlock(start: number, n: number): number {
    this.#refreshCosts();
    const data = this.#data;
    const params = this.#params;
    const nice = params.niceLength;
    const useDelta = params.useDelta;
    const cost = this.#nodeCost;
    const from = this.#nodeFrom;
    const kind = this.#nodeKind;
    const nodeLength = this.#nodeLength;
    const nodeOffset = this.#nodeOffset;
    const nodePower = this.#nodePower;
    const nodeStates = this.#nodeStates;
    const nodeLzQueue = this.#nodeLzQueue;
    const nodeDeltaPower = this.#nodeDeltaPower;
    const nodeDeltaRaw = this.#nodeDeltaRaw;
    const nodePrev = this.#nodePrev;
    const cost0 = this.#bitCost0;
    const cost1 = this.#bitCost1;
    const literalCost = this.#literalCost;
    const lengthCost = this.#lengthCost;
    const lzSlotCost = this.#lzOffsetSlotCost;
    const deltaSlotCost = this.#deltaOffsetSlotCost;
    const powerCost = this.#deltaPowerCost;
    const matchLengths = this.#matchLengths;
    const matchOffsets = this.#matchOffsets;
    const deltaHead = this.#deltaHead;
    const deltaLongHead = this.#deltaLongHead;

    // Node 0 = the live state.
    cost[0] = 0;
    for (let k = 0; k < 8; k++) nodeStates[k] = this.#states[k]!;
    for (let k = 0; k < 4; k++) {
      nodeLzQueue[k] = this.#lzQueue[k]!;
      nodeDeltaPower[k] = this.#deltaQueuePower[k]!;
      nodeDeltaRaw[k] = this.#deltaQueueRaw[k]!;
    }
    nodePrev[0] = this.#prevItem;

    const softEnd = Math.min(BLOCK_SIZE, n - start);
    let landLimit = Math.min(MAX_NODES, n - start);
    let reached = 1;
    for (let j = 1; j <= landLimit; j++) cost[j] = INFINITE_COST;
    let end = 0; // final node

    for (let i = 0;; i++) {
      if (i === softEnd) {
        // Matches crossing the planned end may finish; nothing new goes beyond them.
        landLimit = reached > i ? reached : i;
      }
      if (i >= landLimit) {
        end = landLimit;
        break;
      }
      const pos = start + i;
      const s = i * 8;
      const q = i * 4;
      if (i > 0) this.#deriveNodeState(i);
      const prev = nodePrev[i]!;
      const base = cost[i]!;
      const mainState = nodeStates[s]!;
      const matchState = nodeStates[s + 1]!;
      const avail = n - pos;
      let maxLen = landLimit - i; // <= avail
      if (maxLen > nice) maxLen = nice;

      // ---- literal ----
      {
        const c = base + cost0[LZMS_PROB_MAIN + mainState]! + literalCost[data[pos]!]!;
        if (c < cost[i + 1]!) {
          cost[i + 1] = c;
          from[i + 1] = i;
          kind[i + 1] = KIND_LITERAL;
        }
        if (i + 1 > reached) reached = i + 1;
      }

      const matchBase = base + cost1[LZMS_PROB_MAIN + mainState]!;
      const lzBase = matchBase + cost0[LZMS_PROB_MATCH + matchState]!;

      // ---- LZ repeat matches ----
      const lzState = nodeStates[s + 2]!;
      const lzRepBase = lzBase + cost1[LZMS_PROB_LZ + lzState]!;
      const rep0State = nodeStates[s + 3]!;
      const rep1State = nodeStates[s + 4]!;
      const skip = prev === ITEM_LZ ? 1 : 0;
      let longKind = -1;
      let longLength = 0;
      let longOffset = 0;
      let longPower = 0;
      for (let k = 0; k < 3; k++) {
        const offset = nodeLzQueue[q + k + skip]!;
        if (offset > pos) continue;
        if (data[pos] !== data[pos - offset]) continue;
        const len = this.#lzMatchLength(pos, offset, maxLen);
        if (len >= nice) {
          const full = len + this.#lzMatchLength(pos + len, offset, avail - len);
          if (full > longLength) {
            longKind = KIND_LZ_REP + k;
            longLength = full;
            longOffset = offset;
          }
          continue;
        }
        let c = lzRepBase;
        if (k === 0) c += cost0[LZMS_PROB_LZ_REP0 + rep0State]!;
        else {
          c += cost1[LZMS_PROB_LZ_REP0 + rep0State]!;
          c += k === 1
            ? cost0[LZMS_PROB_LZ_REP1 + rep1State]!
            : cost1[LZMS_PROB_LZ_REP1 + rep1State]!;
        }
        for (let l = 1; l <= len; l++) {
          const total = c + lengthCost[l]!;
          const j = i + l;
          if (total < cost[j]!) {
            cost[j] = total;
            from[j] = i;
            kind[j] = KIND_LZ_REP + k;
            nodeLength[j] = l;
          }
        }
        if (i + len > reached) reached = i + len;
      }

      // ---- explicit LZ matches ----
      if (avail >= 3) {
        if (this.#matchPos !== pos) {
          this.#matchCount = this.#matches.find(pos, matchLengths, matchOffsets, true);
          this.#matchPos = pos;
        }
        const count = this.#matchCount;
        if (count > 0) {
          const lzExplicitBase = lzBase + cost0[LZMS_PROB_LZ + lzState]!;
          let prevLen = 1;
          for (let m = 0; m < count; m++) {
            let len = matchLengths[m]!;
            const offset = matchOffsets[m]!;
            if (len >= nice) {
              const full = len + this.#lzMatchLength(pos + len, offset, avail - len);
              if (full > longLength) {
                longKind = KIND_LZ_EXPLICIT;
                longLength = full;
                longOffset = offset;
              }
              break;
            }
            if (len > maxLen) len = maxLen;
            const c = lzExplicitBase + lzSlotCost[offsetSlot(offset)]!;
            for (let l = prevLen + 1; l <= len; l++) {
              const total = c + lengthCost[l]!;
              const j = i + l;
              if (total < cost[j]!) {
                cost[j] = total;
                from[j] = i;
                kind[j] = KIND_LZ_EXPLICIT;
                nodeLength[j] = l;
                nodeOffset[j] = offset;
              }
            }
            if (len > prevLen) prevLen = len;
          }
          if (i + prevLen > reached) reached = i + prevLen;
        }
      }

      // ---- delta matches ----
      if (useDelta && avail >= MIN_DELTA_LENGTH) {
        const deltaBase = matchBase + cost1[LZMS_PROB_MATCH + matchState]!;
        const deltaState = nodeStates[s + 5]!;
        const deltaRepBase = deltaBase + cost1[LZMS_PROB_DELTA + deltaState]!;
        const dRep0State = nodeStates[s + 6]!;
        const dRep1State = nodeStates[s + 7]!;
        const dskip = prev === ITEM_DELTA ? 1 : 0;
        for (let k = 0; k < 3; k++) {
          const power = nodeDeltaPower[q + k + dskip]!;
          const raw = nodeDeltaRaw[q + k + dskip]!;
          const span = 1 << power;
          const offset = raw * span;
          if (offset + span > pos) continue;
          const len = this.#deltaMatchLength(pos, offset, span, maxLen);
          if (len < MIN_DELTA_LENGTH) continue;
          if (len >= nice) {
            const full = len + this.#deltaMatchLength(pos + len, offset, span, avail - len);
            if (full > longLength) {
              longKind = KIND_DELTA_REP + k;
              longLength = full;
              longOffset = raw;
            }
            continue;
          }
          let c = deltaRepBase;
          if (k === 0) c += cost0[LZMS_PROB_DELTA_REP0 + dRep0State]!;
          else {
            c += cost1[LZMS_PROB_DELTA_REP0 + dRep0State]!;
            c += k === 1
              ? cost0[LZMS_PROB_DELTA_REP1 + dRep1State]!
              : cost1[LZMS_PROB_DELTA_REP1 + dRep1State]!;
          }
          for (let l = MIN_DELTA_LENGTH; l <= len; l++) {
            const total = c + lengthCost[l]!;
            const j = i + l;
            if (total < cost[j]!) {
              cost[j] = total;
              from[j] = i;
              kind[j] = KIND_DELTA_REP + k;
              nodeLength[j] = l;
            }
          }
          if (i + len > reached) reached = i + len;
        }
        if (pos >= this.#deltaInsertedTo) {
          this.#deltaInsertedTo = pos + 1;
          const explicitBase = deltaBase + cost0[LZMS_PROB_DELTA + deltaState]!;
          for (let power = 0; power < DELTA_POWERS; power++) {
            const span = 1 << power;
            if (span > pos) break;
            const d0 = (data[pos]! - data[pos - span]!) & 0xff;
            const d1 = (data[pos + 1]! - data[pos + 1 - span]!) & 0xff;
            const d2 = (data[pos + 2]! - data[pos + 2 - span]!) & 0xff;
            const h = (power << DELTA_HASH_BITS) +
              (Math.imul(d0 | (d1 << 8) | (d2 << 16), 0x9e3779b1) >>> (32 - DELTA_HASH_BITS));
            const shortCand = deltaHead[h]!;
            deltaHead[h] = pos;
            // A second table keyed on 16 difference bytes finds the older, longer matches of
            // records whose carries repeat with a period (the recent short candidate stops at
            // the first carry that differs). Only consulted where the data already looks like
            // delta data, which keeps its cost off ordinary code and text.
            let shortLength = 0;
            for (let which = 0; which < 2; which++) {
              let cand = shortCand;
              if (which === 1) {
                if (
                  shortLength < DELTA_LONG_MIN_SHORT || shortLength >= maxLen ||
                  avail < DELTA_LONG_CONTEXT
                ) break;
                let hl = power;
                for (let t = 0; t < DELTA_LONG_CONTEXT; t++) {
                  hl = Math.imul(
                    hl ^ ((data[pos + t]! - data[pos + t - span]!) & 0xff),
                    0x01000193,
                  );
                }
                hl = (power << DELTA_HASH_BITS) +
                  (Math.imul(hl, 0x9e3779b1) >>> (32 - DELTA_HASH_BITS));
                cand = deltaLongHead[hl]!;
                deltaLongHead[hl] = pos;
                if (cand === shortCand) continue;
              }
              if (cand < 0) continue;
              const offset = pos - cand;
              if ((offset & (span - 1)) !== 0 || offset + span > pos) continue;
              const len = this.#deltaMatchLength(pos, offset, span, maxLen);
              if (which === 0) shortLength = len;
              if (len < MIN_DELTA_LENGTH) continue;
              const raw = offset >>> power;
              if (len >= nice) {
                const full = len + this.#deltaMatchLength(pos + len, offset, span, avail - len);
                if (full > longLength) {
                  longKind = KIND_DELTA_EXPLICIT;
                  longLength = full;
                  longOffset = raw;
                  longPower = power;
                }
                continue;
              }
              const c = explicitBase + powerCost[power]! + deltaSlotCost[offsetSlot(raw)]!;
              for (let l = MIN_DELTA_LENGTH; l <= len; l++) {
                const total = c + lengthCost[l]!;
                const j = i + l;
                if (total < cost[j]!) {
                  cost[j] = total;
                  from[j] = i;
                  kind[j] = KIND_DELTA_EXPLICIT;
                  nodeLength[j] = l;
                  nodeOffset[j] = raw;
                  nodePower[j] = power;
                }
              }
              if (i + len > reached) reached = i + len;
            }
          }
        }
      }

      if (longKind >= 0) {
        // End the piece here: encode the path to this node, then take the long match whole.
        this.#encodePath(start, i);
        if (this.#overflow) return n;
        this.#encodeNodeItem(longKind, longLength, longOffset, longPower);
        this.#skipPositions(pos + 1, pos + longLength, n);
        return pos + longLength;
      }
    }
    this.#encodePath(start, end);
    return start + end;
  }

  /** Encodes the best path from node 0 to node `end` of the piece starting at `start`. */
  #encodePath(start: number, end: number): void {
    const data = this.#data;
    const from = this.#nodeFrom;
    const kind = this.#nodeKind;
    const nodeLength = this.#nodeLength;
    const nodeOffset = this.#nodeOffset;
    const nodePower = this.#nodePower;

    const path = this.#pathNodes;
    let count = 0;
    for (let j = end; j > 0; j = from[j]!) path[count++] = j;
    let at = start;
    while (count > 0) {
      const j = path[--count]!;
      const k = kind[j]!;
      const len = k === KIND_LITERAL ? 1 : nodeLength[j]!;
      if (k === KIND_LITERAL) this.#encodeLiteral(data[at]!);
      else this.#encodeNodeItem(k, len, nodeOffset[j]!, nodePower[j]!);
      at += len;
      if (this.#overflow) break;
    }
  }

  /** Encodes one parsed item with the live state. */
  #encodeNodeItem(k: number, length: number, offset: number, power: number): void {
    if (k === KIND_LZ_EXPLICIT) this.#encodeLzMatch(length, offset, -1);
    else if (k < KIND_DELTA_EXPLICIT) this.#encodeLzMatch(length, 0, k - KIND_LZ_REP);
    else if (k === KIND_DELTA_EXPLICIT) this.#encodeDeltaMatch(length, power, offset, -1);
    else this.#encodeDeltaMatch(length, 0, 0, k - KIND_DELTA_REP);
  }

  /** Fills node `i`'s class states, queues and previous-item type from its best predecessor. */
  #deriveNodeState(i: number): void {
    const p = this.#nodeFrom[i]!;
    const k = this.#nodeKind[i]!;
    const st = this.#nodeStates;
    const lzq = this.#nodeLzQueue;
    const dpw = this.#nodeDeltaPower;
    const drw = this.#nodeDeltaRaw;
    const s = i * 8;
    const ps = p * 8;
    for (let t = 0; t < 8; t++) st[s + t] = st[ps + t]!;
    const q = i * 4;
    const pq = p * 4;
    for (let t = 0; t < 4; t++) {
      lzq[q + t] = lzq[pq + t]!;
      dpw[q + t] = dpw[pq + t]!;
      drw[q + t] = drw[pq + t]!;
    }
    const prev = this.#nodePrev[p]!;
    if (k === KIND_LITERAL) {
      st[s] = (st[s]! << 1) & 15;
      this.#nodePrev[i] = ITEM_LITERAL;
      return;
    }
    st[s] = ((st[s]! << 1) | 1) & 15;
    if (k < KIND_DELTA_EXPLICIT) {
      st[s + 1] = (st[s + 1]! << 1) & 31;
      if (k === KIND_LZ_EXPLICIT) {
        st[s + 2] = (st[s + 2]! << 1) & 63;
        lzq[q + 3] = lzq[q + 2]!;
        lzq[q + 2] = lzq[q + 1]!;
        lzq[q + 1] = lzq[q]!;
        lzq[q] = this.#nodeOffset[i]!;
      } else {
        const rep = k - KIND_LZ_REP;
        st[s + 2] = ((st[s + 2]! << 1) | 1) & 63;
        st[s + 3] = ((st[s + 3]! << 1) | (rep > 0 ? 1 : 0)) & 63;
        if (rep > 0) st[s + 4] = ((st[s + 4]! << 1) | (rep > 1 ? 1 : 0)) & 63;
        const j = rep + (prev === ITEM_LZ ? 1 : 0);
        const used = lzq[q + j]!;
        for (let t = j; t > 0; t--) lzq[q + t] = lzq[q + t - 1]!;
        lzq[q] = used;
      }
      this.#nodePrev[i] = ITEM_LZ;
    } else {
      st[s + 1] = ((st[s + 1]! << 1) | 1) & 31;
      if (k === KIND_DELTA_EXPLICIT) {
        st[s + 5] = (st[s + 5]! << 1) & 63;
        for (let t = 3; t > 0; t--) {
          dpw[q + t] = dpw[q + t - 1]!;
          drw[q + t] = drw[q + t - 1]!;
        }
        dpw[q] = this.#nodePower[i]!;
        drw[q] = this.#nodeOffset[i]!;
      } else {
        const rep = k - KIND_DELTA_REP;
        st[s + 5] = ((st[s + 5]! << 1) | 1) & 63;
        st[s + 6] = ((st[s + 6]! << 1) | (rep > 0 ? 1 : 0)) & 63;
        if (rep > 0) st[s + 7] = ((st[s + 7]! << 1) | (rep > 1 ? 1 : 0)) & 63;
        const j = rep + (prev === ITEM_DELTA ? 1 : 0);
        const usedPower = dpw[q + j]!;
        const usedRaw = drw[q + j]!;
        for (let t = j; t > 0; t--) {
          dpw[q + t] = dpw[q + t - 1]!;
          drw[q + t] = drw[q + t - 1]!;
        }
        dpw[q] = usedPower;
        drw[q] = usedRaw;
      }
      this.#nodePrev[i] = ITEM_DELTA;
    }
  }
}
