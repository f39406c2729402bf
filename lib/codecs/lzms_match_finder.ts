/**
 * The LZ match finder of the LZMS encoder: a binary tree per 3-byte hash over a bounded window,
 * plus a long-distance finder for chunks larger than the window: positions whose 32-byte rolling
 * hash is a sample value (one in 8, chosen by content, so copies of a block share them) are kept in
 * a table, and a sampled position reaching one beyond the window reports that match too.
 *
 * Every position of a chunk is entered once, in order; what it reports for a position depends only
 * on the chunk's bytes, never on the parser, so it can run ahead on another thread
 * (lib/codecs/lzms_match_ring.ts) and the encoder's output stays the same bytes.
 */

/** Longest match length reported (the encoder's largest nice length). */
export const LZMS_MAX_MATCH_REPORT = 255;

/** Most (length, offset) pairs reported at one position: lengths are strictly increasing. */
export const LZMS_MAX_MATCHES_PER_POS = LZMS_MAX_MATCH_REPORT + 1;

/**
 * Oldest data the tree searches, in bytes: it holds 8 bytes per window position, so this bounds
 * its memory (32 MiB) whatever the chunk size; older data is found by the long-distance table.
 */
export const LZMS_MATCH_WINDOW_BYTES = 1 << 22;

/** Bytes a long-distance hash covers (shortest long-distance match). */
const LONG_HASH_BYTES = 32;
/** One in 2^this rolling-hash values is sampled. */
const LONG_SAMPLE_BITS = 3;
/** Entries of the long-distance table (4 bytes each). */
const LONG_TABLE_BITS = 20;
const HASH_MULTIPLIER = 0x01000193;
/** HASH_MULTIPLIER ** (LONG_HASH_BYTES - 1), mod 2^32: what the byte leaving the hash weighs. */
const HASH_OUTGOING = (() => {
  let power = 1;
  for (let i = 1; i < LONG_HASH_BYTES; i++) power = Math.imul(power, HASH_MULTIPLIER);
  return power;
})();

/** Where the encoder's parser gets the matches of each position. */
export interface LzmsMatchSource {
  /**
   * Enters `pos` (each position once, in increasing order; skipped positions are entered with
   * `record` false) and, when `record`, writes its matches to `lengths`/`offsets`; returns how many.
   */
  find(pos: number, lengths: Int32Array, offsets: Int32Array, record: boolean): number;
}

/**
 * Finds LZ matches in one chunk at a time.
 *
 * @example
 * ```ts
 * import { LzmsMatchFinder } from "./lzms_match_finder.ts";
 * import assert from "node:assert/strict";
 * const finder = new LzmsMatchFinder(32, 16);
 * const data = new TextEncoder().encode("abcdefabcdef");
 * finder.reset(data);
 * const lengths = new Int32Array(256), offsets = new Int32Array(256);
 * for (let pos = 0; pos < 6; pos++) finder.find(pos, lengths, offsets, false);
 * assert.equal(finder.find(6, lengths, offsets, true), 1);
 * assert.deepEqual([lengths[0], offsets[0]], [6, 6]);
 * ```
 */
export class LzmsMatchFinder implements LzmsMatchSource {
  readonly #niceLength: number;
  readonly #maxSearchDepth: number;
  #data: Uint8Array = new Uint8Array(0);
  #hashBits = 0;
  #hashHead: Int32Array = new Int32Array(0);
  #treeChildren: Int32Array = new Int32Array(0);
  #windowMask = 0;
  /** Long-distance table (empty when the chunk fits in the window) and the rolling hash. */
  #longTable: Int32Array = new Int32Array(0);
  #rollingHash = 0;

  /** @param niceLength Stop searching at a match this long (<= 255). */
  constructor(niceLength: number, maxSearchDepth: number) {
    this.#niceLength = Math.min(niceLength, LZMS_MAX_MATCH_REPORT);
    this.#maxSearchDepth = maxSearchDepth;
  }

  /** Starts a chunk: `data` (already x86-filtered) is read, never written. */
  reset(data: Uint8Array): void {
    const n = data.length;
    this.#data = data;
    let window = 1 << 12;
    while (window < n && window < LZMS_MATCH_WINDOW_BYTES) window *= 2;
    if (this.#treeChildren.length < 2 * window) this.#treeChildren = new Int32Array(2 * window);
    this.#windowMask = window - 1;
    let hashBits = 12;
    while (hashBits < 20 && 1 << hashBits < n) hashBits++;
    if (this.#hashHead.length < 1 << hashBits) this.#hashHead = new Int32Array(1 << hashBits);
    this.#hashBits = hashBits;
    this.#hashHead.fill(-1, 0, 1 << hashBits);
    if (n > window) {
      if (this.#longTable.length === 0) this.#longTable = new Int32Array(1 << LONG_TABLE_BITS);
      this.#longTable.fill(-1);
      let hash = 0;
      for (let i = 0; i < LONG_HASH_BYTES - 1 && i < n; i++) {
        hash = (Math.imul(hash, HASH_MULTIPLIER) + data[i]!) | 0;
      }
      this.#rollingHash = hash;
    }
  }

  find(pos: number, lengths: Int32Array, offsets: Int32Array, record: boolean): number {
    const data = this.#data;
    const avail = data.length - pos;
    if (avail < 3) return 0;
    const maxLength = avail < this.#niceLength ? avail : this.#niceLength;
    if (data.length <= this.#windowMask + 1 || avail < LONG_HASH_BYTES) {
      return this.#searchTree(pos, maxLength, lengths, offsets, record);
    }
    // The hash of data[pos - 1 .. pos + 31) becomes that of data[pos .. pos + 32).
    const hash = (Math.imul(
      this.#rollingHash - (pos > 0 ? Math.imul(data[pos - 1]!, HASH_OUTGOING) : 0),
      HASH_MULTIPLIER,
    ) + data[pos + LONG_HASH_BYTES - 1]!) | 0;
    this.#rollingHash = hash;
    const mixed = Math.imul(hash, 0x9e3779b1);
    let candidate = -1;
    if (mixed >>> (32 - LONG_SAMPLE_BITS) === 0) {
      const slot = Math.imul(hash, 0x85ebca6b) >>> (32 - LONG_TABLE_BITS);
      candidate = this.#longTable[slot]!;
      this.#longTable[slot] = pos;
    }
    let count = this.#searchTree(pos, maxLength, lengths, offsets, record);
    if (record && candidate >= 0 && pos - candidate > this.#windowMask) {
      const best = count > 0 ? lengths[count - 1]! : 0;
      if (best < maxLength) {
        let len = 0;
        while (len < maxLength && data[candidate + len] === data[pos + len]) len++;
        if (len >= LONG_HASH_BYTES && len > best) {
          lengths[count] = len;
          offsets[count] = pos - candidate;
          count++;
        }
      }
    }
    return count;
  }

  #searchTree(
    pos: number,
    maxLength: number,
    lengths: Int32Array,
    offsets: Int32Array,
    record: boolean,
  ): number {
    const data = this.#data;
    const children = this.#treeChildren;
    const mask = this.#windowMask;
    let count = 0;
    const h = Math.imul(data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16), 0x9e3779b1) >>>
      (32 - this.#hashBits);
    const head = this.#hashHead;
    let cur = head[h]!;
    head[h] = pos;
    let leftSlot = 2 * (pos & mask);
    let rightSlot = leftSlot + 1;
    let leftLength = 0;
    let rightLength = 0;
    let bestLength = 2;
    let depth = this.#maxSearchDepth;
    const window = mask + 1;
    while (cur >= 0 && pos - cur < window && depth-- > 0) {
      const curSlot = 2 * (cur & mask);
      let len = leftLength < rightLength ? leftLength : rightLength;
      while (len < maxLength && data[cur + len] === data[pos + len]) len++;
      if (len > bestLength) {
        bestLength = len;
        if (record) {
          lengths[count] = len;
          offsets[count] = pos - cur;
          count++;
        }
        if (len >= maxLength) {
          children[leftSlot] = children[curSlot]!;
          children[rightSlot] = children[curSlot + 1]!;
          return count;
        }
      }
      if (data[cur + len]! < data[pos + len]!) {
        children[leftSlot] = cur;
        leftSlot = curSlot + 1;
        cur = children[leftSlot]!;
        leftLength = len;
      } else {
        children[rightSlot] = cur;
        rightSlot = curSlot;
        cur = children[rightSlot]!;
        rightLength = len;
      }
    }
    children[leftSlot] = -1;
    children[rightSlot] = -1;
    return count;
  }
}
