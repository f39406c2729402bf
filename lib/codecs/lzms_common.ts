/**
 * LZMS pieces shared by the decoder and a future encoder: slot tables, decision classes, the
 * adaptive Huffman code construction and the x86 filter.
 *
 * LZMS has no public specification; wim-codecs.md §4 restates wimlib's decoder, which reads
 * Microsoft's ESD files. Both sides must evolve identical adaptive state, so everything here is
 * bit-exact with it: the slot tables of §4.5, the probability model of §4.3, the code
 * construction of §4.4 (two FIFO queues, leaves win ties, lengths handed out rarest symbol first)
 * and the x86 filter of §4.7 (the encoder runs it forwards before compressing, the decoder undoes
 * it after decoding, both with the same "is this code?" heuristic).
 */

import { limitCodeLengthCounts } from "./huffman.ts";

/** Number of literal symbols (one per byte value). */
export const LZMS_NUM_LITERAL_SYMS = 256;
/** Number of length slots. */
export const LZMS_NUM_LENGTH_SYMS = 54;
/** Number of delta powers (spans 1, 2, 4, ... 128). */
export const LZMS_NUM_DELTA_POWER_SYMS = 8;
/** Number of offset slots for the largest chunk (1 GiB); {@linkcode lzmsOffsetSlotCount} gives a chunk's. */
export const LZMS_MAX_NUM_OFFSET_SYMS = 799;
/** Longest codeword any LZMS Huffman code can have. */
export const LZMS_MAX_CODEWORD_LENGTH = 15;
/** Literal code rebuild period, in decoded symbols. */
export const LZMS_LITERAL_CODE_REBUILD_FREQ = 1024;
/** LZ offset slot code rebuild period, in decoded symbols. */
export const LZMS_LZ_OFFSET_CODE_REBUILD_FREQ = 1024;
/** Length slot code rebuild period, in decoded symbols. */
export const LZMS_LENGTH_CODE_REBUILD_FREQ = 512;
/** Delta offset slot code rebuild period, in decoded symbols. */
export const LZMS_DELTA_OFFSET_CODE_REBUILD_FREQ = 1024;
/** Delta power code rebuild period, in decoded symbols. */
export const LZMS_DELTA_POWER_CODE_REBUILD_FREQ = 512;
/** Entries in each repeat queue (LZ offsets, delta pairs) that repeat items can name. */
export const LZMS_NUM_REPS = 3;
/** Largest chunk wimlib accepts (1 GiB); Microsoft writes at most 64 MiB. */
export const LZMS_MAX_CHUNK_SIZE = 1 << 30;

/** Probabilities are in units of 1/64: a bit's `p0` is the count of zeros in its 64-bit history. */
export const LZMS_PROBABILITY_BITS = 6;
/** The denominator of a probability, `1 << LZMS_PROBABILITY_BITS`. */
export const LZMS_PROBABILITY_DENOMINATOR = 64;
/** Initial low 32 bits of every probability entry's 64-bit history (the high 32 bits start at 0). */
export const LZMS_INITIAL_HISTORY_LOW = 0x55555555;
/** Initial count of zeros in every probability entry's history. */
export const LZMS_INITIAL_ZEROS = 48;

/*
 * Decision classes (§4.3): all entries live in one flat table; each class has 2^k entries starting
 * at its offset and a k-bit state of the last k bits decoded in that class.
 */

/** Offset of the "main" class (literal vs match), 16 entries. */
export const LZMS_PROB_MAIN = 0;
/** Offset of the "match" class (LZ vs delta), 32 entries. */
export const LZMS_PROB_MATCH = 16;
/** Offset of the "lz" class (explicit vs repeat offset), 64 entries. */
export const LZMS_PROB_LZ = 48;
/** Offset of the "lz_rep[0]" class (repeat slot 0 vs further), 64 entries. */
export const LZMS_PROB_LZ_REP0 = 112;
/** Offset of the "lz_rep[1]" class (repeat slot 1 vs 2), 64 entries. */
export const LZMS_PROB_LZ_REP1 = 176;
/** Offset of the "delta" class (explicit vs repeat pair), 64 entries. */
export const LZMS_PROB_DELTA = 240;
/** Offset of the "delta_rep[0]" class, 64 entries. */
export const LZMS_PROB_DELTA_REP0 = 304;
/** Offset of the "delta_rep[1]" class, 64 entries. */
export const LZMS_PROB_DELTA_REP1 = 368;
/** Total probability entries over all decision classes. */
export const LZMS_NUM_PROB_ENTRIES = 432;
/** State mask of the main class (4 state bits). */
export const LZMS_MAIN_STATE_MASK = 15;
/** State mask of the match class (5 state bits). */
export const LZMS_MATCH_STATE_MASK = 31;
/** State mask of the lz, lz_rep, delta and delta_rep classes (6 state bits). */
export const LZMS_OTHER_STATE_MASK = 63;

/**
 * Ints per probability entry in a flat `Int32Array`: history high 32 bits, history low 32 bits
 * (newest bit in bit 0), count of zeros in the history, unused.
 */
export const LZMS_PROB_STRIDE = 4;

/**
 * Resets all probability entries of a flat table ({@linkcode LZMS_PROB_STRIDE} ints each).
 *
 * @param probs {@linkcode LZMS_NUM_PROB_ENTRIES} × {@linkcode LZMS_PROB_STRIDE} ints.
 *
 * @example
 * ```ts
 * import { LZMS_NUM_PROB_ENTRIES, LZMS_PROB_STRIDE, resetLzmsProbabilities } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * const probs = new Int32Array(LZMS_NUM_PROB_ENTRIES * LZMS_PROB_STRIDE);
 * resetLzmsProbabilities(probs);
 * assert.ok(probs[2] === 48);
 * ```
 */
export function resetLzmsProbabilities(probs: Int32Array): void {
  for (let i = 0; i + LZMS_PROB_STRIDE <= probs.length; i += LZMS_PROB_STRIDE) {
    probs[i] = 0;
    probs[i + 1] = LZMS_INITIAL_HISTORY_LOW;
    probs[i + 2] = LZMS_INITIAL_ZEROS;
    probs[i + 3] = 0;
  }
}

/**
 * The coding probability `p0` (in 64ths) for a count of zeros, clamped to 1..63: index by zeros.
 *
 * @example
 * ```ts
 * import { LZMS_P0_BY_ZEROS } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZMS_P0_BY_ZEROS[0] === 1 && LZMS_P0_BY_ZEROS[64] === 63);
 * ```
 */
export const LZMS_P0_BY_ZEROS: Uint8Array = (() => {
  const table = new Uint8Array(65);
  for (let z = 0; z <= 64; z++) table[z] = z === 0 ? 1 : z === 64 ? 63 : z;
  return table;
})();

/** Builds `base[s]` (length `runs` total + 1, the last a sentinel) and `extra[s]` from (count, bits) runs. */
function buildSlotTables(
  runs: readonly (readonly [number, number])[],
): { base: Uint32Array; extra: Uint8Array } {
  let total = 0;
  for (const [count] of runs) total += count;
  const base = new Uint32Array(total + 1);
  const extra = new Uint8Array(total);
  let slot = 0;
  let value = 1;
  for (const [count, bits] of runs) {
    for (let k = 0; k < count; k++) {
      base[slot] = value;
      extra[slot] = bits;
      value += 2 ** bits;
      slot++;
    }
  }
  base[slot] = value;
  return { base, extra };
}

const OFFSET_SLOTS = buildSlotTables([
  [8, 0],
  [9, 2],
  [7, 3],
  [10, 4],
  [15, 5],
  [15, 6],
  [20, 7],
  [20, 8],
  [30, 9],
  [33, 10],
  [40, 11],
  [42, 12],
  [45, 13],
  [60, 14],
  [73, 15],
  [80, 16],
  [85, 17],
  [95, 18],
  [105, 19],
  [6, 20],
  [1, 30],
]);

const LENGTH_SLOTS = buildSlotTables([
  [26, 0],
  [4, 1],
  [6, 2],
  [4, 3],
  [5, 4],
  [2, 5],
  [1, 6],
  [1, 7],
  [1, 8],
  [1, 9],
  [1, 10],
  [1, 16],
  [1, 30],
]);

/**
 * Smallest offset of each offset slot (799 slots plus an end sentinel), shared by LZ offsets and
 * raw delta offsets.
 *
 * @example
 * ```ts
 * import { LZMS_OFFSET_SLOT_BASE } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZMS_OFFSET_SLOT_BASE[798] === 0x065BE4A5);
 * ```
 */
export const LZMS_OFFSET_SLOT_BASE: Uint32Array = OFFSET_SLOTS.base;

/**
 * Number of extra bits after each offset slot.
 *
 * @example
 * ```ts
 * import { LZMS_OFFSET_SLOT_EXTRA_BITS } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZMS_OFFSET_SLOT_EXTRA_BITS[798] === 30);
 * ```
 */
export const LZMS_OFFSET_SLOT_EXTRA_BITS: Uint8Array = OFFSET_SLOTS.extra;

/**
 * Smallest length of each length slot (54 slots plus an end sentinel).
 *
 * @example
 * ```ts
 * import { LZMS_LENGTH_SLOT_BASE } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZMS_LENGTH_SLOT_BASE[53] === 67755);
 * ```
 */
export const LZMS_LENGTH_SLOT_BASE: Uint32Array = LENGTH_SLOTS.base;

/**
 * Number of extra bits after each length slot.
 *
 * @example
 * ```ts
 * import { LZMS_LENGTH_SLOT_EXTRA_BITS } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZMS_LENGTH_SLOT_EXTRA_BITS[53] === 30);
 * ```
 */
export const LZMS_LENGTH_SLOT_EXTRA_BITS: Uint8Array = LENGTH_SLOTS.extra;

/** The largest slot `s` of `bases` (with `count` slots) with `bases[s] <= value`; value >= 1. */
function slotOf(bases: Uint32Array, count: number, value: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (bases[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Returns the offset slot of an LZ offset or raw delta offset (>= 1).
 *
 * @example
 * ```ts
 * import { lzmsOffsetSlot } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzmsOffsetSlot(9) === 8 && lzmsOffsetSlot(12) === 8);
 * ```
 */
export function lzmsOffsetSlot(offset: number): number {
  return slotOf(LZMS_OFFSET_SLOT_BASE, LZMS_MAX_NUM_OFFSET_SYMS, offset);
}

/**
 * Returns the length slot of a match length (>= 1).
 *
 * @example
 * ```ts
 * import { lzmsLengthSlot } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzmsLengthSlot(97) === 40);
 * ```
 */
export function lzmsLengthSlot(length: number): number {
  return slotOf(LZMS_LENGTH_SLOT_BASE, LZMS_NUM_LENGTH_SYMS, length);
}

/**
 * Returns the number of offset-slot symbols for a chunk of `chunkSizeBytes` uncompressed bytes.
 *
 * This is `1 + slot(chunkSizeBytes - 1)` from the **actual** size of the chunk (a short last chunk
 * uses fewer slots). It is never below 2: a one-symbol code cannot be complete, and only chunks of
 * 2 bytes or fewer, which WIM writers store raw, would otherwise get fewer.
 *
 * @example
 * ```ts
 * import { lzmsOffsetSlotCount } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzmsOffsetSlotCount(131072) === 203);
 * ```
 */
export function lzmsOffsetSlotCount(chunkSizeBytes: number): number {
  if (chunkSizeBytes < 2) return 2;
  return Math.max(2, 1 + lzmsOffsetSlot(chunkSizeBytes - 1));
}

/** Scratch arrays for {@linkcode buildLzmsCodeLengths}, sized for up to 1024 symbols. */
export class LzmsCodeScratch {
  /** `freq << 10 | symbol` sort keys, sorted ascending. */
  readonly keys: Uint32Array = new Uint32Array(1024);
  /** The keys after the first radix pass. */
  readonly partlySorted: Uint32Array = new Uint32Array(1024);
  /** Radix bucket positions. */
  readonly buckets: Uint32Array = new Uint32Array(64);
  /** Weights of internal nodes in creation order. */
  readonly nodeWeights: Uint32Array = new Uint32Array(1024);
  /** Parent (internal node index) of each internal node. */
  readonly nodeParents: Uint16Array = new Uint16Array(1024);
  /** Parent (internal node index) of each leaf, in sorted leaf order. */
  readonly leafParents: Uint16Array = new Uint16Array(1024);
  /** Depth of each internal node. */
  readonly nodeDepths: Uint16Array = new Uint16Array(1024);
  /** Leaves per depth. */
  readonly depthCounts: Uint32Array = new Uint32Array(1025);
}

/** Largest frequency {@linkcode buildLzmsCodeLengths} accepts (LZMS's stay below 2 × 1024 + 2). */
export const LZMS_MAX_CODE_FREQUENCY = (1 << 12) - 1;

/**
 * Computes an LZMS Huffman code's lengths from symbol frequencies, bit-exact with wimlib (§4.4).
 *
 * Symbols are sorted by (frequency, symbol); the tree is built from two FIFO queues (leaves, then
 * internal nodes in creation order) where a leaf wins a tie; leaf depths are counted and handed
 * out deepest first to the rarest symbols. LZMS frequencies are small (halved at every rebuild),
 * so lengths stay within {@linkcode LZMS_MAX_CODEWORD_LENGTH}; should a tree ever be deeper, the
 * counts are folded back to a complete code of at most 15 bits (never seen on real data).
 *
 * @param freqs Frequency of each symbol, 1 to {@linkcode LZMS_MAX_CODE_FREQUENCY}.
 * @param symbolCount Number of symbols, 2 to 1024.
 * @param lengths Output: codeword length of each symbol.
 * @returns The longest codeword length; `scratch.depthCounts[len]` then holds the number of
 *   symbols of each length.
 *
 * @example
 * ```ts
 * import { buildLzmsCodeLengths, LzmsCodeScratch } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * const lengths = new Uint8Array(256);
 * buildLzmsCodeLengths(new Uint32Array(256).fill(1), 256, lengths, new LzmsCodeScratch());
 * assert.ok(lengths.every((len) => len === 8));
 * ```
 */
export function buildLzmsCodeLengths(
  freqs: Uint32Array,
  symbolCount: number,
  lengths: Uint8Array,
  scratch: LzmsCodeScratch,
): number {
  const n = symbolCount;
  const keys = scratch.keys;
  // Two stable radix passes over 6-bit digits of the frequency; symbols enter in ascending order,
  // so ties stay sorted by symbol. O(n), measured 1.1 us for 256 symbols (native sort: 3.5 us).
  const partly = scratch.partlySorted;
  const buckets = scratch.buckets;
  buckets.fill(0);
  for (let sym = 0; sym < n; sym++) buckets[freqs[sym]! & 63]!++;
  let sum = 0;
  for (let b = 0; b < 64; b++) {
    const count = buckets[b]!;
    buckets[b] = sum;
    sum += count;
  }
  for (let sym = 0; sym < n; sym++) {
    const freq = freqs[sym]! & LZMS_MAX_CODE_FREQUENCY;
    partly[buckets[freq & 63]!++] = (freq << 10) | sym;
  }
  buckets.fill(0);
  for (let i = 0; i < n; i++) buckets[partly[i]! >>> 16]!++;
  sum = 0;
  for (let b = 0; b < 64; b++) {
    const count = buckets[b]!;
    buckets[b] = sum;
    sum += count;
  }
  for (let i = 0; i < n; i++) {
    const key = partly[i]!;
    keys[buckets[key >>> 16]!++] = key;
  }

  const nodeWeights = scratch.nodeWeights;
  const nodeParents = scratch.nodeParents;
  const leafParents = scratch.leafParents;
  let leaf = 0;
  let head = 0;
  let tail = 0;
  for (; tail < n - 1; tail++) {
    let weight = 0;
    for (let pick = 0; pick < 2; pick++) {
      if (leaf < n && (head === tail || keys[leaf]! >>> 10 <= nodeWeights[head]!)) {
        weight += keys[leaf]! >>> 10;
        leafParents[leaf++] = tail;
      } else {
        weight += nodeWeights[head]!;
        nodeParents[head++] = tail;
      }
    }
    nodeWeights[tail] = weight;
  }
  // Depths: the root is the last internal node; parents are created after their children.
  const nodeDepths = scratch.nodeDepths;
  nodeDepths[n - 2] = 0;
  for (let node = n - 3; node >= 0; node--) nodeDepths[node] = nodeDepths[nodeParents[node]!]! + 1;
  const depthCounts = scratch.depthCounts;
  depthCounts.fill(0, 0, n + 1);
  let maxDepth = 0;
  for (let i = 0; i < n; i++) {
    const depth = nodeDepths[leafParents[i]!]! + 1;
    depthCounts[depth]!++;
    if (depth > maxDepth) maxDepth = depth;
  }
  if (maxDepth > LZMS_MAX_CODEWORD_LENGTH) {
    limitCodeLengthCounts(depthCounts, maxDepth, LZMS_MAX_CODEWORD_LENGTH);
    maxDepth = LZMS_MAX_CODEWORD_LENGTH;
  }
  let next = 0;
  for (let depth = maxDepth; depth >= 1; depth--) {
    for (let c = depthCounts[depth]!; c > 0; c--) lengths[keys[next++]! & 1023] = depth;
  }
  return maxDepth;
}

/** Chunks of at most this many bytes are never filtered. */
export const LZMS_X86_MIN_FILTER_SIZE = 17;
/** Opcodes in the last this many bytes of a chunk are not considered. */
export const LZMS_X86_TAIL_BYTES = 16;
/** Translation stays on for this many bytes after the last confirmed x86 position. */
export const LZMS_X86_MAX_TRANSLATION_DISTANCE = 1023;
/** ... but only this many after a CALL (E8) opcode. */
export const LZMS_X86_CALL_TRANSLATION_DISTANCE = 511;
/** Two references to one 16-bit target within this many bytes confirm x86 code. */
export const LZMS_X86_ID_WINDOW = 65535;
/** One entry per 16-bit target; {@linkcode lzmsX86Filter}'s scratch has one more (its state). */
export const LZMS_X86_TARGET_TABLE_SIZE = 65536;

/** Opcode kind of each byte: 0 none, 1 E8 (CALL), 2 E9 (JMP), 3 FF, 4 F0, 5 48/4C (REX.W). */
const X86_OPCODE_KIND = (() => {
  const table = new Uint8Array(256);
  table[0xe8] = 1;
  table[0xe9] = 2;
  table[0xff] = 3;
  table[0xf0] = 4;
  table[0x48] = 5;
  table[0x4c] = 5;
  return table;
})();

/**
 * Runs the LZMS x86 filter over a whole chunk in place (§4.7): `undo` for decoding, not for encoding.
 *
 * Relative operands of CALL rel32, CALL [rip+disp32], LOCK ADD [rip+disp32] and REX.W LEA/MOV
 * rip-relative become absolute (position added) where the data looks like x86 code: after two
 * references to the same 16-bit target within 64 KiB, until 1023 bytes (511 after a CALL) pass
 * without such a confirmation. Both directions make identical decisions, so the filter is safe on
 * any data.
 *
 * @param data The whole chunk, positions counted from its start.
 * @param lastTargetUsages Scratch of {@linkcode LZMS_X86_TARGET_TABLE_SIZE} + 1 entries, zeroed
 *   when first used; keep passing the same one (it is reset lazily).
 * @param undo True to turn absolute operands back into relative ones (decoder).
 *
 * @example
 * ```ts
 * import { lzmsX86Filter } from "./lzms_common.ts";
 * import assert from "node:assert/strict";
 * const data = new Uint8Array(64).fill(0x90);
 * const copy = data.slice();
 * const usages = new Int32Array(65537);
 * lzmsX86Filter(data, usages, false);
 * lzmsX86Filter(data, usages, true);
 * assert.ok(data.every((b, i) => b === copy[i]));
 * ```
 */
export function lzmsX86Filter(data: Uint8Array, lastTargetUsages: Int32Array, undo: boolean): void {
  const n = data.length;
  if (n <= LZMS_X86_MIN_FILTER_SIZE) return;
  // Positions are stored biased by a base that grows past every earlier call's positions plus
  // the 64 KiB window, so stale entries always look far away and the table needs no clearing
  // per chunk (clearing 256 KiB cost about as much as filtering a 128 KiB chunk). The base lives in
  // the table's extra last entry; it restarts (with one clearing) before int32 would overflow.
  let base = lastTargetUsages[LZMS_X86_TARGET_TABLE_SIZE]!;
  if (base <= 0 || base > 0x3fffffff - n) {
    lastTargetUsages.fill(0, 0, LZMS_X86_TARGET_TABLE_SIZE);
    base = LZMS_X86_TARGET_TABLE_SIZE;
  }
  lastTargetUsages[LZMS_X86_TARGET_TABLE_SIZE] = base + n + LZMS_X86_TARGET_TABLE_SIZE;
  const opcodeKind = X86_OPCODE_KIND;
  const end = n - LZMS_X86_TAIL_BYTES;
  let lastX86 = -(LZMS_X86_MAX_TRANSLATION_DISTANCE + 1);
  let i = 1;
  for (;;) {
    let kind = 0;
    while (i < end && (kind = opcodeKind[data[i]!]!) === 0) i++;
    if (i >= end) break;
    let opLength = 0;
    let limit = LZMS_X86_MAX_TRANSLATION_DISTANCE;
    if (kind === 1) {
      opLength = 1;
      limit = LZMS_X86_CALL_TRANSLATION_DISTANCE;
    } else if (kind === 2) {
      i += 5; // JMP rel32: skipped, never translated
      continue;
    } else if (kind === 3) {
      if (data[i + 1] === 0x15) opLength = 2;
    } else if (kind === 4) {
      if (data[i + 1] === 0x83 && data[i + 2] === 0x05) opLength = 3;
    } else {
      // REX.W LEA/MOV reg, [rip+disp32]
      const op = data[i + 1]!;
      const modrm = data[i + 2]!;
      if (
        (modrm & 7) === 5 &&
        (op === 0x8d || (op === 0x8b && (data[i]! & 4) === 0 && (modrm & 0xf0) === 0))
      ) {
        opLength = 3;
      }
    }
    if (opLength === 0) {
      i++;
      continue;
    }
    const q = i + opLength;
    let target = 0;
    if (!undo) target = (i + (data[q]! | (data[q + 1]! << 8))) & 0xffff;
    if (i - lastX86 <= limit) {
      const v = data[q]! | (data[q + 1]! << 8) | (data[q + 2]! << 16) | (data[q + 3]! << 24);
      const w = undo ? (v - i) | 0 : (v + i) | 0;
      data[q] = w;
      data[q + 1] = w >>> 8;
      data[q + 2] = w >>> 16;
      data[q + 3] = w >>> 24;
    }
    if (undo) target = (i + (data[q]! | (data[q + 1]! << 8))) & 0xffff;
    const e = q + 3;
    if (base + e - lastTargetUsages[target]! <= LZMS_X86_ID_WINDOW) lastX86 = e;
    lastTargetUsages[target] = base + e;
    i = q + 4;
  }
}
