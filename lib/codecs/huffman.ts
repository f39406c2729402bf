/**
 * Canonical Huffman codes shared by XPRESS, LZX and LZMS.
 *
 * All three codecs describe a code by one length per symbol (0 = unused) and assign codewords by
 * the canonical rule (wim-codecs.md §1.3): symbols sorted by (length, value), codes counting up.
 * Decoders look codes up in a two-level table; encoders build lengths from frequencies with the
 * two-queue tree construction of §4.4 (leaves win ties), limited to a maximum length.
 *
 * Decode table entries are packed into one `Uint32`:
 * - a direct entry (code fits the root): `symbol << 8 | length`
 * - a pointer to a sub-table: `start << 8 | 0x80 | subBits`; the sub-table is indexed by the next
 *   `subBits` bits and its entries are `symbol << 8 | (length - rootBits)`.
 */

/** Flag bit in a decode-table entry: the entry points to a sub-table. */
export const SUBTABLE_FLAG = 0x80;

/**
 * Returns the size a decode table needs for a code of `symbolCount` symbols.
 *
 * @example
 * ```ts
 * import { decodeTableSize } from "./huffman.ts";
 * const table = new Uint32Array(decodeTableSize(512, 10, 15));
 * ```
 */
export function decodeTableSize(symbolCount: number, rootBits: number, maxLength: number): number {
  // Worst case: the root plus one full-size sub-table per root entry that can hold a prefix.
  if (maxLength <= rootBits) return 1 << rootBits;
  return (1 << rootBits) + (Math.min(1 << rootBits, symbolCount) << (maxLength - rootBits));
}

/**
 * Fills `table` with a two-level decode table for canonical code `lengths`.
 *
 * @param lengths Length of each symbol's codeword, 0 for unused symbols.
 * @param symbolCount How many entries of `lengths` to use.
 * @param rootBits Bits looked up in the first level.
 * @param maxLength The longest legal codeword.
 * @param table Output, at least {@linkcode decodeTableSize} entries; reused across calls.
 * @param counts Scratch, at least `maxLength + 1` entries.
 * @param offsets Scratch, at least `maxLength + 2` entries.
 * @param sorted Scratch, at least `symbolCount` entries.
 * @returns false when the lengths describe an over-full or incomplete code or one longer than
 *   `maxLength` (an empty code is valid and yields a table of zero entries, which valid data never
 *   reaches).
 *
 * @example
 * ```ts
 * import { buildDecodeTable } from "./huffman.ts";
 * const table = new Uint32Array(16);
 * const ok = buildDecodeTable(Uint8Array.of(1, 2, 2), 3, 2, 2, table,
 *   new Uint16Array(3), new Uint16Array(4), new Uint16Array(3));
 * // ok === true; table[0] === (0 << 8 | 1)
 * ```
 */
export function buildDecodeTable(
  lengths: Uint8Array,
  symbolCount: number,
  rootBits: number,
  maxLength: number,
  table: Uint32Array,
  counts: Uint16Array,
  offsets: Uint16Array,
  sorted: Uint16Array,
): boolean {
  counts.fill(0, 0, maxLength + 1);
  for (let sym = 0; sym < symbolCount; sym++) {
    const len = lengths[sym]!;
    // A length the counts cannot hold would be skipped silently and pass the Kraft check.
    if (len > maxLength) return false;
    counts[len]!++;
  }
  counts[0] = 0;
  // Kraft check: remaining code space after each length.
  let left = 1;
  for (let len = 1; len <= maxLength; len++) {
    left = (left << 1) - counts[len]!;
    if (left < 0) return false;
  }
  if (left !== 0) {
    // Incomplete: only the empty code is allowed.
    let used = 0;
    for (let len = 1; len <= maxLength; len++) used += counts[len]!;
    if (used !== 0) return false;
    table.fill(0, 0, 1 << rootBits);
    return true;
  }
  offsets[1] = 0;
  for (let len = 1; len <= maxLength; len++) offsets[len + 1] = offsets[len]! + counts[len]!;
  for (let sym = 0; sym < symbolCount; sym++) {
    const len = lengths[sym]!;
    if (len !== 0) sorted[offsets[len]!++] = sym;
  }
  // Codewords in canonical order; after the loop above offsets[len] is the end of that length.
  let index = 0;
  let code = 0;
  const rootSize = 1 << rootBits;
  let nextSubtable = rootSize;
  let currentPrefix = -1;
  let subStart = 0;
  let subBits = 0;
  for (let len = 1; len <= maxLength; len++) {
    const end = index + counts[len]!;
    for (; index < end; index++) {
      const sym = sorted[index]!;
      if (len <= rootBits) {
        const shift = rootBits - len;
        const first = code << shift;
        const entry = (sym << 8) | len;
        table.fill(entry, first, first + (1 << shift));
      } else {
        const prefix = code >>> (len - rootBits);
        if (prefix !== currentPrefix) {
          // New sub-table: size it for the longest code sharing this prefix.
          currentPrefix = prefix;
          subBits = subtableBits(counts, end - index, len, rootBits, maxLength);
          subStart = nextSubtable;
          nextSubtable += 1 << subBits;
          table[prefix] = (subStart << 8) | SUBTABLE_FLAG | subBits;
        }
        const extra = len - rootBits;
        const low = code & ((1 << extra) - 1);
        const shift = subBits - extra;
        const first = subStart + (low << shift);
        table.fill((sym << 8) | extra, first, first + (1 << shift));
      }
      code++;
    }
    code <<= 1;
  }
  return true;
}

/**
 * Bits a sub-table needs so that every code below one root prefix fits: `remaining` codes of
 * length `len` are still unplaced, longer ones follow in canonical order.
 */
function subtableBits(
  counts: Uint16Array,
  remaining: number,
  len: number,
  rootBits: number,
  maxLength: number,
): number {
  let bits = len - rootBits;
  let space = (1 << bits) - remaining;
  for (let l = len + 1; space > 0 && l <= maxLength; l++) {
    space = (space << 1) - counts[l]!;
    bits++;
  }
  return Math.min(bits, maxLength - rootBits);
}

/**
 * Computes codeword lengths from symbol frequencies, at most `maxLength` bits.
 *
 * The tree is built with two FIFO queues where leaves win ties (wim-codecs.md §4.4); the lengths
 * are then handed out rarest symbol first. This is bit-exact with what LZMS decoders expect. When
 * fewer than two symbols are used, a second symbol gets length 1 so the code is complete.
 *
 * @returns The number of used symbols.
 *
 * @example
 * ```ts
 * import { buildCodeLengths } from "./huffman.ts";
 * const lengths = new Uint8Array(4);
 * buildCodeLengths(Uint32Array.of(10, 1, 1, 2), 4, 15, lengths);
 * // lengths: 1, 3, 3, 2
 * ```
 */
export function buildCodeLengths(
  freqs: Uint32Array,
  symbolCount: number,
  maxLength: number,
  lengths: Uint8Array,
): number {
  let n = 0;
  for (let sym = 0; sym < symbolCount; sym++) {
    lengths[sym] = 0;
    if (freqs[sym]! > 0) n++;
  }
  if (n < 2) {
    let only = 0;
    while (only < symbolCount && freqs[only]! === 0) only++;
    if (only === symbolCount) only = 0;
    lengths[only] = 1;
    lengths[only === 0 ? 1 : 0] = 1;
    return n;
  }
  // Sort by (frequency, symbol) with one numeric key per symbol, `frequency << symbolBits |
  // symbol`, by a byte-wise radix sort (counts too large for 32-bit keys use exact 64-bit float
  // keys and the built-in sort). The work arrays are reused across calls (one set per isolate),
  // and each key type has its own loops: one variable holding either array made every access
  // polymorphic. Measured for 512 symbols: 31 us a call with Uint32Array#sort, fresh arrays and a
  // shared key variable; 11-13 us now.
  const symbolBits = 32 - Math.clz32(symbolCount - 1);
  const scale = 2 ** symbolBits;
  let maxFreq = 0;
  for (let sym = 0; sym < symbolCount; sym++) if (freqs[sym]! > maxFreq) maxFreq = freqs[sym]!;
  const work = treeScratch(n);
  const maxKey = maxFreq * scale + symbolCount - 1;
  const { symbols, weight, parent, depth, counts } = work;
  // Leaves 0..n-1 in sorted order, then internal nodes n..2n-2; weights and parent links.
  if (maxKey < 2 ** 32) {
    const keys = work.keys32;
    for (let sym = 0, i = 0; sym < symbolCount; sym++) {
      const freq = freqs[sym]!;
      if (freq > 0) keys[i++] = freq * scale + sym;
    }
    const sorted = radixSort(keys, work.sortSpare, n, maxKey);
    const mask = scale - 1;
    for (let i = 0; i < n; i++) symbols[i] = sorted[i]! & mask;
  } else {
    const keys = work.keys64.subarray(0, n);
    for (let sym = 0, i = 0; sym < symbolCount; sym++) {
      const freq = freqs[sym]!;
      if (freq > 0) keys[i++] = freq * scale + sym;
    }
    keys.sort();
    for (let i = 0; i < n; i++) symbols[i] = keys[i]! % scale;
  }
  for (let i = 0; i < n; i++) weight[i] = freqs[symbols[i]!]!;
  let leaf = 0;
  let internalHead = n;
  let internalTail = n;
  for (let k = 0; k < n - 1; k++) {
    // Take the two lightest nodes; a leaf wins a tie with an internal node.
    let a: number;
    if (leaf < n && (internalHead === internalTail || weight[leaf]! <= weight[internalHead]!)) {
      a = leaf++;
    } else {
      a = internalHead++;
    }
    let b: number;
    if (leaf < n && (internalHead === internalTail || weight[leaf]! <= weight[internalHead]!)) {
      b = leaf++;
    } else {
      b = internalHead++;
    }
    weight[internalTail] = weight[a]! + weight[b]!;
    parent[a] = internalTail;
    parent[b] = internalTail;
    internalTail++;
  }
  // Depths: root is the last internal node.
  counts.fill(0);
  depth[2 * n - 2] = 0;
  for (let node = 2 * n - 3; node >= 0; node--) depth[node] = depth[parent[node]!]! + 1;
  for (let i = 0; i < n; i++) counts[Math.min(depth[i]!, 63)]!++;
  limitCodeLengthCounts(counts, 63, maxLength);
  // Rarest symbols get the longest codes.
  let next = 0;
  for (let len = maxLength; len >= 1; len--) {
    for (let c = counts[len]!; c > 0; c--) lengths[symbols[next++]!] = len;
  }
  return n;
}

/** Work arrays of {@linkcode buildCodeLengths}, grown to the largest alphabet seen. */
interface TreeScratch {
  keys32: Uint32Array;
  sortSpare: Uint32Array;
  keys64: Float64Array;
  symbols: Uint32Array;
  weight: Float64Array;
  parent: Int32Array;
  depth: Uint8Array;
  counts: Uint16Array;
}

let scratch: TreeScratch | undefined;

/** The shared work arrays, large enough for `n` used symbols. */
function treeScratch(n: number): TreeScratch {
  if (scratch && scratch.symbols.length >= n) return scratch;
  const size = Math.max(n, 1024);
  scratch = {
    keys32: new Uint32Array(size),
    sortSpare: new Uint32Array(size),
    keys64: new Float64Array(size),
    symbols: new Uint32Array(size),
    weight: new Float64Array(2 * size),
    parent: new Int32Array(2 * size),
    depth: new Uint8Array(2 * size),
    counts: new Uint16Array(64),
  };
  return scratch;
}

const byteCounts = new Uint32Array(256);

/**
 * Sorts the first `n` keys of `keys` (all at most `maxKey`) by least significant byte first,
 * through `spare`; returns whichever of the two holds the sorted keys.
 */
function radixSort(keys: Uint32Array, spare: Uint32Array, n: number, maxKey: number): Uint32Array {
  let from = keys;
  let to = spare;
  for (let shift = 0; shift < 32 && maxKey >>> shift !== 0; shift += 8) {
    for (let b = 0; b < 256; b++) byteCounts[b] = 0;
    for (let i = 0; i < n; i++) byteCounts[(from[i]! >>> shift) & 255]!++;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const count = byteCounts[b]!;
      byteCounts[b] = sum;
      sum += count;
    }
    for (let i = 0; i < n; i++) {
      const key = from[i]!;
      to[byteCounts[(key >>> shift) & 255]!++] = key;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  return from;
}

/**
 * Folds leaf counts deeper than `maxLength` (indexes up to `maxDepth`) back into a complete code of
 * at most `maxLength` bits, in place: counts[len] is then how many symbols get a `len`-bit code.
 * Shared by the encoders' length limiter and the LZMS code construction.
 *
 * @example
 * ```ts
 * import { limitCodeLengthCounts } from "./huffman.ts";
 * const counts = Uint32Array.of(0, 1, 1, 0, 2); // depths 1, 2, 4, 4
 * limitCodeLengthCounts(counts, 4, 3);
 * // counts: 0, 1, 1, 2, 0 (depths 1, 2, 3, 3)
 * ```
 */
export function limitCodeLengthCounts(
  counts: Uint16Array | Uint32Array,
  maxDepth: number,
  maxLength: number,
): void {
  for (let d = maxLength + 1; d <= maxDepth; d++) {
    counts[maxLength]! += counts[d]!;
    counts[d] = 0;
  }
  let kraft = 0;
  for (let len = 1; len <= maxLength; len++) kraft += counts[len]! * 2 ** (maxLength - len);
  const full = 2 ** maxLength;
  while (kraft > full) {
    // Drop a leaf from the deepest level and split a shallower leaf into two deeper ones.
    counts[maxLength]!--;
    for (let len = maxLength - 1; len >= 1; len--) {
      if (counts[len]! > 0) {
        counts[len]!--;
        counts[len + 1]! += 2;
        break;
      }
    }
    kraft--;
  }
}

/**
 * Assigns canonical codewords (MSB-first values) for `lengths` into `codewords`.
 *
 * @example
 * ```ts
 * import { buildCodewords } from "./huffman.ts";
 * const codes = new Uint16Array(3);
 * buildCodewords(Uint8Array.of(1, 2, 2), 3, 15, codes);
 * // codes: 0b0, 0b10, 0b11
 * ```
 */
export function buildCodewords(
  lengths: Uint8Array,
  symbolCount: number,
  maxLength: number,
  codewords: Uint16Array | Uint32Array,
): void {
  const counts = new Uint32Array(maxLength + 2);
  for (let sym = 0; sym < symbolCount; sym++) counts[lengths[sym]!]!++;
  counts[0] = 0;
  const next = new Uint32Array(maxLength + 2);
  let code = 0;
  for (let len = 1; len <= maxLength; len++) {
    code = (code + counts[len - 1]!) << 1;
    next[len] = code;
  }
  for (let sym = 0; sym < symbolCount; sym++) {
    const len = lengths[sym]!;
    if (len !== 0) codewords[sym] = next[len]!++;
  }
}
