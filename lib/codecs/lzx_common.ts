/**
 * LZX (WIM variant) constants, position-slot tables and E8 call translation.
 *
 * Shared by the LZX decoder and encoder. WIM's LZX (wim-codecs.md §3) is the CAB LZX format with no
 * stream header, a window equal to the resource's chunk size rounded up to a power of two (at
 * least 32 KiB), and E8 call translation always on with a translation size of 12,000,000 bytes,
 * positions counted from the start of each chunk. A match offset is sent as a position slot plus
 * extra bits; slots 0-2 name the three recent offsets, and for slot 3 and up the "formatted"
 * offset is `LZX_POSITION_BASES[slot] + extra` and the real offset is that minus
 * {@linkcode LZX_OFFSET_ADJUSTMENT}.
 */

/** Smallest window order (log2 of the window size in bytes): a 32 KiB window. */
export const LZX_MIN_WINDOW_ORDER = 15;
/** Largest window order wimkit accepts: a 2 MiB window (wimlib's limit for WIM chunks). */
export const LZX_MAX_WINDOW_ORDER = 21;
/** Number of literal symbols at the start of the main code. */
export const LZX_NUM_CHARS = 256;
/** Match-length headers per position slot in the main code (7 means "see the length code"). */
export const LZX_NUM_LEN_HEADERS = 8;
/** Shortest match length. */
export const LZX_MIN_MATCH_LEN = 2;
/** Longest match length. */
export const LZX_MAX_MATCH_LEN = 257;
/** Symbols in the length code (lengths 9..257). */
export const LZX_LENGTH_CODE_SYMBOLS = 249;
/** Symbols in the aligned-offset code. */
export const LZX_ALIGNED_CODE_SYMBOLS = 8;
/** Bits the aligned-offset code supplies (the low bits of offsets with 3 or more extra bits). */
export const LZX_ALIGNED_BITS = 3;
/** Symbols in each pretree (the code that codes code lengths). */
export const LZX_PRETREE_SYMBOLS = 20;
/** Bits per raw pretree codeword length. */
export const LZX_PRETREE_LENGTH_BITS = 4;
/** Longest codeword in the main code. */
export const LZX_MAX_MAIN_CODEWORD_LEN = 16;
/** Longest codeword in the length code. */
export const LZX_MAX_LENGTH_CODEWORD_LEN = 16;
/** Longest codeword in the aligned-offset code. */
export const LZX_MAX_ALIGNED_CODEWORD_LEN = 7;
/** Longest codeword in a pretree. */
export const LZX_MAX_PRETREE_CODEWORD_LEN = 15;
/** Block type: verbatim (main and length codes, raw extra bits). */
export const LZX_BLOCKTYPE_VERBATIM = 1;
/** Block type: aligned offset (verbatim plus an aligned-offset code for low offset bits). */
export const LZX_BLOCKTYPE_ALIGNED = 2;
/** Block type: uncompressed (raw bytes after a word-aligned recent-offsets header). */
export const LZX_BLOCKTYPE_UNCOMPRESSED = 3;
/** Block size sent with the 1-bit size flag instead of an explicit size. */
export const LZX_DEFAULT_BLOCK_SIZE = 32768;
/** Number of recent (repeat) offsets, slots 0..2. */
export const LZX_NUM_RECENT_OFFSETS = 3;
/** Formatted offset minus real offset, for position slots 3 and up. */
export const LZX_OFFSET_ADJUSTMENT = 2;
/** E8 translation size: absolute call targets are taken modulo this many bytes. */
export const LZX_E8_TRANSLATION_SIZE = 12_000_000;
/** Number of position slots a 2 MiB window needs; the size of the slot tables. */
export const LZX_MAX_POSITION_SLOTS = 50;
/** Largest main-code symbol count (2 MiB window). */
export const LZX_MAX_MAIN_SYMBOLS = LZX_NUM_CHARS + LZX_NUM_LEN_HEADERS * LZX_MAX_POSITION_SLOTS;

/**
 * Extra offset bits sent after each position slot: 0 below slot 4, then one more every two slots,
 * capped at 17.
 *
 * @example
 * ```ts
 * import { LZX_EXTRA_BITS } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZX_EXTRA_BITS[8] === 3 && LZX_EXTRA_BITS[49] === 17);
 * ```
 */
export const LZX_EXTRA_BITS: Uint8Array = new Uint8Array(LZX_MAX_POSITION_SLOTS);

/**
 * Formatted offset at the start of each position slot (real offset = formatted − 2).
 *
 * @example
 * ```ts
 * import { LZX_POSITION_BASES } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(LZX_POSITION_BASES[4] === 4 && LZX_POSITION_BASES[30] === 32768);
 * ```
 */
export const LZX_POSITION_BASES: Int32Array = new Int32Array(LZX_MAX_POSITION_SLOTS + 1);

for (let slot = 0, base = 0; slot <= LZX_MAX_POSITION_SLOTS; slot++) {
  LZX_POSITION_BASES[slot] = base;
  if (slot === LZX_MAX_POSITION_SLOTS) break;
  const extra = slot < 4 ? 0 : Math.min(17, (slot >> 1) - 1);
  LZX_EXTRA_BITS[slot] = extra;
  base += 1 << extra;
}

/**
 * Returns the window order for a resource chunk size: log2 of the size, at least 15.
 *
 * @param chunkSize The resource's chunk size in bytes, a power of two from 32 KiB to 2 MiB.
 * @throws {RangeError} If `chunkSize` is not such a power of two.
 *
 * @example
 * ```ts
 * import { lzxWindowOrder } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzxWindowOrder(32768) === 15 && lzxWindowOrder(1 << 20) === 20);
 * ```
 */
export function lzxWindowOrder(chunkSize: number): number {
  for (let order = LZX_MIN_WINDOW_ORDER; order <= LZX_MAX_WINDOW_ORDER; order++) {
    if (chunkSize === 2 ** order) return order;
  }
  throw new RangeError(
    `Cannot use LZX chunk size ${chunkSize}: expected a power of two from 32768 to 2097152`,
  );
}

/**
 * Returns the number of position slots for a window order (30 for 32 KiB … 50 for 2 MiB).
 *
 * @example
 * ```ts
 * import { lzxPositionSlotCount } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzxPositionSlotCount(15) === 30 && lzxPositionSlotCount(21) === 50);
 * ```
 */
export function lzxPositionSlotCount(windowOrder: number): number {
  const lastOffset = 2 ** windowOrder - 1;
  let slots = 0;
  while (slots < LZX_MAX_POSITION_SLOTS && LZX_POSITION_BASES[slots]! <= lastOffset) slots++;
  return slots;
}

/**
 * Returns the number of main-code symbols for a window order: 256 literals plus 8 per slot.
 *
 * @example
 * ```ts
 * import { lzxMainSymbolCount } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzxMainSymbolCount(15) === 496);
 * ```
 */
export function lzxMainSymbolCount(windowOrder: number): number {
  return LZX_NUM_CHARS + LZX_NUM_LEN_HEADERS * lzxPositionSlotCount(windowOrder);
}

/**
 * Returns the position slot of a formatted offset (real offset + 2, so at least 3).
 *
 * @example
 * ```ts
 * import { lzxPositionSlot } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * assert.ok(lzxPositionSlot(1 + 2) === 3 && lzxPositionSlot(32766 + 2) === 30);
 * ```
 */
export function lzxPositionSlot(formattedOffset: number): number {
  if (formattedOffset >= LZX_POSITION_BASES[36]!) {
    return 36 + ((formattedOffset - LZX_POSITION_BASES[36]!) >>> 17);
  }
  // Below slot 36 the bases are 2^k and 3·2^(k-1): the slot is 2·log2 plus the next bit.
  const log2 = 31 - Math.clz32(formattedOffset);
  return (log2 << 1) + ((formattedOffset >>> (log2 - 1)) & 1);
}

/**
 * Undoes E8 call translation on a decoded chunk, in place (wim-codecs.md §3.8).
 *
 * Every `E8` byte before the last 10 bytes is an x86 `call` whose 32-bit operand the encoder
 * turned from relative to absolute; this turns it back. Operand bytes are never opcodes.
 *
 * @example
 * ```ts
 * import { lzxE8Do, lzxE8Undo } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * const code = Uint8Array.of(0x90, 0xe8, 0x10, 0, 0, 0, ...new Array(12).fill(0x90));
 * lzxE8Do(code); // the operand becomes 0x10 + 1 = 0x11
 * assert.equal(code[2], 0x11);
 * lzxE8Undo(code);
 * assert.equal(code[2], 0x10);
 * ```
 */
export function lzxE8Undo(data: Uint8Array): void {
  const limit = data.length - 10;
  let i = 0;
  while (i < limit) {
    // Skip four non-E8 bytes per step (faster than indexOf's call per hit on E8-dense code).
    if (data[i] !== 0xe8) {
      if (data[i + 1] === 0xe8) i += 1;
      else if (data[i + 2] === 0xe8) i += 2;
      else if (data[i + 3] === 0xe8) i += 3;
      else {
        i += 4;
        continue;
      }
      if (i >= limit) break;
    }
    const value = data[i + 1]! | (data[i + 2]! << 8) | (data[i + 3]! << 16) | (data[i + 4]! << 24);
    if (value >= 0) {
      if (value < LZX_E8_TRANSLATION_SIZE) storeInt32(data, i + 1, value - i);
    } else if (value >= -i) {
      storeInt32(data, i + 1, value + LZX_E8_TRANSLATION_SIZE);
    }
    i += 5;
  }
}

/**
 * Applies E8 call translation to a chunk before compressing it, in place (wim-codecs.md §3.8).
 *
 * Relative `call` operands in `-position .. 12,000,000` become absolute targets, so that repeated
 * calls to one function look alike to the match finder. {@linkcode lzxE8Undo} reverses it.
 *
 * @example
 * ```ts
 * import { lzxE8Do } from "./lzx_common.ts";
 * import assert from "node:assert/strict";
 * const code = new Uint8Array(16).fill(0x90);
 * code[0] = 0xe8;
 * lzxE8Do(code); // at position 0, relative 0x90909090 (negative) is out of range: unchanged
 * assert.ok(code[1] === 0x90);
 * ```
 */
export function lzxE8Do(data: Uint8Array): void {
  const limit = data.length - 10;
  let i = 0;
  while (i < limit) {
    if (data[i] !== 0xe8) {
      if (data[i + 1] === 0xe8) i += 1;
      else if (data[i + 2] === 0xe8) i += 2;
      else if (data[i + 3] === 0xe8) i += 3;
      else {
        i += 4;
        continue;
      }
      if (i >= limit) break;
    }
    const value = data[i + 1]! | (data[i + 2]! << 8) | (data[i + 3]! << 16) | (data[i + 4]! << 24);
    if (value >= -i && value < LZX_E8_TRANSLATION_SIZE) {
      storeInt32(
        data,
        i + 1,
        value < LZX_E8_TRANSLATION_SIZE - i ? value + i : value - LZX_E8_TRANSLATION_SIZE,
      );
    }
    i += 5;
  }
}

function storeInt32(data: Uint8Array, at: number, value: number): void {
  data[at] = value;
  data[at + 1] = value >>> 8;
  data[at + 2] = value >>> 16;
  data[at + 3] = value >>> 24;
}
