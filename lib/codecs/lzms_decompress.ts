/**
 * LZMS chunk decompressor.
 *
 * An LZMS chunk (wim-codecs.md §4) holds two streams of 16-bit little-endian words growing towards
 * each other: a binary range coder read forwards from the start decides item types through
 * adaptive probabilities (§4.2, §4.3), and a bit stream read backwards from the end carries
 * adaptive Huffman symbols and raw extra bits (§4.1, §4.4). Items are literals, LZ matches and
 * delta matches, each match with an explicit or a repeated offset (§4.6); the decoded chunk then
 * goes through the x86 filter in undo mode (§4.7). Nothing survives from one chunk to the next.
 *
 * Quirks we rely on: a new repeat-queue entry becomes visible one item later (so repeat indices
 * skip it when the previous item was of the same kind); the number of offset slots comes from the
 * actual size of this chunk; Huffman codes are rebuilt from frequencies exactly as the encoder
 * did, so the code construction must be bit-exact (lzms_common.ts).
 *
 * Trade-offs: both readers return zero bits past their end instead of checking every read; garbage
 * input is caught by the offset and length checks, and every item writes at least one byte, so the
 * loop is bounded by the output size. The range coder and bit reader live in locals of one big
 * loop (no per-bit calls).
 */

import { CodecError } from "../errors.ts";
import type { ChunkDecompressor } from "./codec.ts";
import { decodeTableSize, SUBTABLE_FLAG } from "./huffman.ts";
import {
  buildLzmsCodeLengths,
  LZMS_DELTA_OFFSET_CODE_REBUILD_FREQ,
  LZMS_DELTA_POWER_CODE_REBUILD_FREQ,
  LZMS_LENGTH_CODE_REBUILD_FREQ,
  LZMS_LENGTH_SLOT_BASE,
  LZMS_LENGTH_SLOT_EXTRA_BITS,
  LZMS_LITERAL_CODE_REBUILD_FREQ,
  LZMS_LZ_OFFSET_CODE_REBUILD_FREQ,
  LZMS_MAX_CODEWORD_LENGTH,
  LZMS_MAX_NUM_OFFSET_SYMS,
  LZMS_NUM_DELTA_POWER_SYMS,
  LZMS_NUM_LENGTH_SYMS,
  LZMS_NUM_LITERAL_SYMS,
  LZMS_NUM_PROB_ENTRIES,
  LZMS_OFFSET_SLOT_BASE,
  LZMS_OFFSET_SLOT_EXTRA_BITS,
  LZMS_PROB_DELTA,
  LZMS_PROB_DELTA_REP0,
  LZMS_PROB_LZ,
  LZMS_PROB_LZ_REP0,
  LZMS_PROB_MATCH,
  LZMS_PROB_STRIDE,
  LZMS_X86_TARGET_TABLE_SIZE,
  LzmsCodeScratch,
  lzmsOffsetSlotCount,
  lzmsX86Filter,
  resetLzmsProbabilities,
} from "./lzms_common.ts";

/** Bits looked up in the first level of every decode table. */
const ROOT_BITS = 10;
/** Shift that brings the next ROOT_BITS bits of the left-aligned bit buffer down. */
const ROOT_SHIFT = 32 - ROOT_BITS;

const ITEM_LITERAL = 0;
const ITEM_LZ = 1;
const ITEM_DELTA = 2;

/** Below this length a byte loop beats `copyWithin`/`fill`. */
const NATIVE_COPY_MIN_LENGTH = 32;

/** One adaptive Huffman code: frequencies, the decode table built from them, its rebuild period. */
class AdaptiveCode {
  /** Symbols in use for the current chunk. */
  symbolCount = 0;
  /** Decodes left until the next rebuild. */
  countdown = 0;
  readonly period: number;
  readonly freqs: Uint32Array;
  readonly lengths: Uint8Array;
  readonly table: Uint32Array;

  constructor(maxSymbols: number, period: number) {
    this.period = period;
    this.freqs = new Uint32Array(maxSymbols);
    this.lengths = new Uint8Array(maxSymbols);
    this.table = new Uint32Array(decodeTableSize(maxSymbols, ROOT_BITS, LZMS_MAX_CODEWORD_LENGTH));
  }
}

/**
 * Decodes LZMS chunks (solid ESD resources and LZMS WIMs), one chunk per call.
 *
 * The object owns its tables and reuses them; it keeps no state between chunks. Chunk sizes up to
 * 1 GiB are accepted; memory does not grow with the chunk size.
 *
 * @example Decode a chunk made by wimlib
 * ```ts
 * import { LzmsDecompressor } from "./lzms_decompress.ts";
 * import assert from "node:assert/strict";
 * const chunk = Uint8Array.from([0xee, 0x64, 0xd0, 0xff, 0, 0, 0, 0x80, 0xf1, 0x63, 0x62, 0x61]);
 * const out = new Uint8Array(100);
 * new LzmsDecompressor().decompress(chunk, out);
 * assert.equal(new TextDecoder().decode(out), "abc".repeat(34).slice(0, 100));
 * ```
 */
export class LzmsDecompressor implements ChunkDecompressor {
  #literalCode = new AdaptiveCode(LZMS_NUM_LITERAL_SYMS, LZMS_LITERAL_CODE_REBUILD_FREQ);
  #lzOffsetCode = new AdaptiveCode(LZMS_MAX_NUM_OFFSET_SYMS, LZMS_LZ_OFFSET_CODE_REBUILD_FREQ);
  #lengthCode = new AdaptiveCode(LZMS_NUM_LENGTH_SYMS, LZMS_LENGTH_CODE_REBUILD_FREQ);
  #deltaOffsetCode = new AdaptiveCode(
    LZMS_MAX_NUM_OFFSET_SYMS,
    LZMS_DELTA_OFFSET_CODE_REBUILD_FREQ,
  );
  #deltaPowerCode = new AdaptiveCode(
    LZMS_NUM_DELTA_POWER_SYMS,
    LZMS_DELTA_POWER_CODE_REBUILD_FREQ,
  );
  #codeScratch = new LzmsCodeScratch();
  #tableOffsets = new Uint16Array(LZMS_MAX_CODEWORD_LENGTH + 2);
  #tableSorted = new Uint16Array(LZMS_MAX_NUM_OFFSET_SYMS);
  #probs = new Int32Array(LZMS_NUM_PROB_ENTRIES * LZMS_PROB_STRIDE);
  /** States of lz_rep[0], lz_rep[1], delta_rep[0], delta_rep[1]. */
  #repStates = new Int32Array(4);
  #x86Usages = new Int32Array(LZMS_X86_TARGET_TABLE_SIZE + 1);

  /**
   * Decodes one LZMS chunk `src` into all of `dst` (`dst.length` = the chunk's uncompressed size).
   *
   * @throws {CodecError} If `src` is not a valid LZMS chunk of `dst.length` bytes.
   */
  decompress(src: Uint8Array, dst: Uint8Array): void {
    const srcLength = src.length;
    const usize = dst.length;
    if (srcLength < 4 || (srcLength & 1) !== 0) {
      throw new CodecError(
        `Cannot decompress LZMS chunk: compressed size is ${srcLength} bytes, expected an even size of at least 4`,
      );
    }
    if (usize === 0) return;

    const nslots = lzmsOffsetSlotCount(usize);
    const literalCode = this.#literalCode;
    const lzOffsetCode = this.#lzOffsetCode;
    const lengthCode = this.#lengthCode;
    const deltaOffsetCode = this.#deltaOffsetCode;
    const deltaPowerCode = this.#deltaPowerCode;
    this.#resetCode(literalCode, LZMS_NUM_LITERAL_SYMS);
    this.#resetCode(lzOffsetCode, nslots);
    this.#resetCode(lengthCode, LZMS_NUM_LENGTH_SYMS);
    this.#resetCode(deltaOffsetCode, nslots);
    this.#resetCode(deltaPowerCode, LZMS_NUM_DELTA_POWER_SYMS);

    const probs = this.#probs;
    resetLzmsProbabilities(probs);
    const repStates = this.#repStates;
    repStates.fill(0);
    const offsetBase = LZMS_OFFSET_SLOT_BASE;
    const offsetExtraBits = LZMS_OFFSET_SLOT_EXTRA_BITS;
    const lengthBase = LZMS_LENGTH_SLOT_BASE;
    const lengthExtraBits = LZMS_LENGTH_SLOT_EXTRA_BITS;

    const literalTable = literalCode.table;
    const literalFreqs = literalCode.freqs;
    let literalCountdown = literalCode.countdown;
    const lengthTable = lengthCode.table;
    const lengthFreqs = lengthCode.freqs;

    // Range decoder (forward stream); `range` and `code` are unsigned 32-bit values kept as int32
    // bit patterns (compared with `>>> 0`), so every operation stays in 32-bit integer arithmetic.
    let range = -1; // 0xFFFFFFFF
    let code = (src[1]! << 24) | (src[0]! << 16) | (src[3]! << 8) | src[2]!;
    let forwardPos = 4;
    // Backward bit stream: `bitBuf` holds `bitCount` bits left-aligned (next bit in bit 31).
    let bitBuf = 0;
    let bitCount = 0;
    let backPos = srcLength - 2;

    let mainState = 0;
    let matchState = 0;
    let lzState = 0;
    let deltaState = 0;
    let prevItem = ITEM_LITERAL;
    // Repeat queues: LZ offsets, and delta (power, raw offset) pairs.
    let lz0 = 1, lz1 = 2, lz2 = 3, lz3 = 4;
    let dp0 = 0, dp1 = 0, dp2 = 0, dp3 = 0;
    let dr0 = 1, dr1 = 2, dr2 = 3, dr3 = 4;

    let pos = 0;
    while (pos < usize) {
      // ---- main decision: literal or match ----
      let bit: number;
      {
        const entry = mainState; // LZMS_PROB_MAIN = 0
        if (range >>> 0 < 0x10000) {
          range <<= 16;
          if (forwardPos < srcLength) {
            code = (code << 16) | src[forwardPos]! | (src[forwardPos + 1]! << 8);
            forwardPos += 2;
          } else {
            code <<= 16;
          }
        }
        const slot4 = entry << 2;
        const zeros = probs[slot4 + 2]!;
        const bound = Math.imul(range >>> 6, zeros - (zeros >>> 6) + ((zeros - 1) >>> 31));
        const high = probs[slot4]!;
        const low = probs[slot4 + 1]!;
        probs[slot4] = (high << 1) | (low >>> 31);
        if (code >>> 0 < bound >>> 0) {
          range = bound;
          bit = 0;
          probs[slot4 + 1] = low << 1;
          probs[slot4 + 2] = zeros + (high >>> 31);
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          bit = 1;
          probs[slot4 + 1] = (low << 1) | 1;
          probs[slot4 + 2] = zeros + (high >>> 31) - 1;
        }
        mainState = ((mainState << 1) | bit) & 15;
      }

      if (bit === 0) {
        // ---- literal ----
        if (bitCount < 16) {
          if (backPos >= 0) {
            bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
            backPos -= 2;
          }
          bitCount += 16;
        }
        let tableEntry = literalTable[bitBuf >>> ROOT_SHIFT]!;
        if ((tableEntry & 0x80) !== 0) {
          bitBuf <<= ROOT_BITS;
          bitCount -= ROOT_BITS;
          tableEntry = literalTable[(tableEntry >>> 8) + (bitBuf >>> (32 - (tableEntry & 0x7f)))]!;
        }
        const codeLength = tableEntry & 0xff;
        bitBuf <<= codeLength;
        bitCount -= codeLength;
        const sym = tableEntry >>> 8;
        dst[pos++] = sym;
        literalFreqs[sym]!++;
        if (--literalCountdown === 0) {
          this.#rebuildCode(literalCode);
          literalCountdown = literalCode.period;
        }
        prevItem = ITEM_LITERAL;
        continue;
      }

      // ---- match decision: LZ or delta ----
      {
        const entry = LZMS_PROB_MATCH + matchState;
        if (range >>> 0 < 0x10000) {
          range <<= 16;
          if (forwardPos < srcLength) {
            code = (code << 16) | src[forwardPos]! | (src[forwardPos + 1]! << 8);
            forwardPos += 2;
          } else {
            code <<= 16;
          }
        }
        const slot4 = entry << 2;
        const zeros = probs[slot4 + 2]!;
        const bound = Math.imul(range >>> 6, zeros - (zeros >>> 6) + ((zeros - 1) >>> 31));
        const high = probs[slot4]!;
        const low = probs[slot4 + 1]!;
        probs[slot4] = (high << 1) | (low >>> 31);
        if (code >>> 0 < bound >>> 0) {
          range = bound;
          bit = 0;
          probs[slot4 + 1] = low << 1;
          probs[slot4 + 2] = zeros + (high >>> 31);
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          bit = 1;
          probs[slot4 + 1] = (low << 1) | 1;
          probs[slot4 + 2] = zeros + (high >>> 31) - 1;
        }
        matchState = ((matchState << 1) | bit) & 31;
      }
      const isDelta = bit;

      // ---- explicit or repeat (lz or delta class) ----
      {
        const state = isDelta === 0 ? lzState : deltaState;
        const entry = (isDelta === 0 ? LZMS_PROB_LZ : LZMS_PROB_DELTA) + state;
        if (range >>> 0 < 0x10000) {
          range <<= 16;
          if (forwardPos < srcLength) {
            code = (code << 16) | src[forwardPos]! | (src[forwardPos + 1]! << 8);
            forwardPos += 2;
          } else {
            code <<= 16;
          }
        }
        const slot4 = entry << 2;
        const zeros = probs[slot4 + 2]!;
        const bound = Math.imul(range >>> 6, zeros - (zeros >>> 6) + ((zeros - 1) >>> 31));
        const high = probs[slot4]!;
        const low = probs[slot4 + 1]!;
        probs[slot4] = (high << 1) | (low >>> 31);
        if (code >>> 0 < bound >>> 0) {
          range = bound;
          bit = 0;
          probs[slot4 + 1] = low << 1;
          probs[slot4 + 2] = zeros + (high >>> 31);
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          bit = 1;
          probs[slot4 + 1] = (low << 1) | 1;
          probs[slot4 + 2] = zeros + (high >>> 31) - 1;
        }
        const next = ((state << 1) | bit) & 63;
        if (isDelta === 0) lzState = next;
        else deltaState = next;
      }
      const isRepeat = bit;

      let repIndex = 0;
      if (isRepeat !== 0) {
        // Up to two rep decisions: slot 0, or slot 1 vs 2.
        const repBase = isDelta === 0 ? LZMS_PROB_LZ_REP0 : LZMS_PROB_DELTA_REP0;
        const stateBase = isDelta === 0 ? 0 : 2;
        {
          const state = repStates[stateBase]!;
          const entry = repBase + state;
          if (range >>> 0 < 0x10000) {
            range <<= 16;
            if (forwardPos < srcLength) {
              code = (code << 16) | src[forwardPos]! | (src[forwardPos + 1]! << 8);
              forwardPos += 2;
            } else {
              code <<= 16;
            }
          }
          const slot4 = entry << 2;
          const zeros = probs[slot4 + 2]!;
          const bound = Math.imul(range >>> 6, zeros - (zeros >>> 6) + ((zeros - 1) >>> 31));
          const high = probs[slot4]!;
          const low = probs[slot4 + 1]!;
          probs[slot4] = (high << 1) | (low >>> 31);
          if (code >>> 0 < bound >>> 0) {
            range = bound;
            bit = 0;
            probs[slot4 + 1] = low << 1;
            probs[slot4 + 2] = zeros + (high >>> 31);
          } else {
            range = (range - bound) | 0;
            code = (code - bound) | 0;
            bit = 1;
            probs[slot4 + 1] = (low << 1) | 1;
            probs[slot4 + 2] = zeros + (high >>> 31) - 1;
          }
          repStates[stateBase] = ((state << 1) | bit) & 63;
        }
        if (bit !== 0) {
          repIndex = 1;
          const state = repStates[stateBase + 1]!;
          const entry = repBase + 64 + state;
          if (range >>> 0 < 0x10000) {
            range <<= 16;
            if (forwardPos < srcLength) {
              code = (code << 16) | src[forwardPos]! | (src[forwardPos + 1]! << 8);
              forwardPos += 2;
            } else {
              code <<= 16;
            }
          }
          const slot4 = entry << 2;
          const zeros = probs[slot4 + 2]!;
          const bound = Math.imul(range >>> 6, zeros - (zeros >>> 6) + ((zeros - 1) >>> 31));
          const high = probs[slot4]!;
          const low = probs[slot4 + 1]!;
          probs[slot4] = (high << 1) | (low >>> 31);
          if (code >>> 0 < bound >>> 0) {
            range = bound;
            bit = 0;
            probs[slot4 + 1] = low << 1;
            probs[slot4 + 2] = zeros + (high >>> 31);
          } else {
            range = (range - bound) | 0;
            code = (code - bound) | 0;
            bit = 1;
            probs[slot4 + 1] = (low << 1) | 1;
            probs[slot4 + 2] = zeros + (high >>> 31) - 1;
          }
          repStates[stateBase + 1] = ((state << 1) | bit) & 63;
          if (bit !== 0) repIndex = 2;
        }
      }

      // ---- delta power (explicit delta only) ----
      let power = 0;
      if (isDelta !== 0 && isRepeat === 0) {
        if (bitCount < 16) {
          if (backPos >= 0) {
            bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
            backPos -= 2;
          }
          bitCount += 16;
        }
        const table = deltaPowerCode.table;
        let tableEntry = table[bitBuf >>> ROOT_SHIFT]!;
        if ((tableEntry & 0x80) !== 0) {
          bitBuf <<= ROOT_BITS;
          bitCount -= ROOT_BITS;
          tableEntry = table[(tableEntry >>> 8) + (bitBuf >>> (32 - (tableEntry & 0x7f)))]!;
        }
        const codeLength = tableEntry & 0xff;
        bitBuf <<= codeLength;
        bitCount -= codeLength;
        power = tableEntry >>> 8;
        deltaPowerCode.freqs[power]!++;
        if (--deltaPowerCode.countdown === 0) this.#rebuildCode(deltaPowerCode);
      }

      // ---- explicit offset: slot, then extra bits ----
      let offset = 0;
      if (isRepeat === 0) {
        const offsetCode = isDelta === 0 ? lzOffsetCode : deltaOffsetCode;
        if (bitCount < 16) {
          if (backPos >= 0) {
            bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
            backPos -= 2;
          }
          bitCount += 16;
        }
        const table = offsetCode.table;
        let tableEntry = table[bitBuf >>> ROOT_SHIFT]!;
        if ((tableEntry & 0x80) !== 0) {
          bitBuf <<= ROOT_BITS;
          bitCount -= ROOT_BITS;
          tableEntry = table[(tableEntry >>> 8) + (bitBuf >>> (32 - (tableEntry & 0x7f)))]!;
        }
        const codeLength = tableEntry & 0xff;
        bitBuf <<= codeLength;
        bitCount -= codeLength;
        const slot = tableEntry >>> 8;
        offsetCode.freqs[slot]!++;
        if (--offsetCode.countdown === 0) this.#rebuildCode(offsetCode);
        offset = offsetBase[slot]!;
        const extra = offsetExtraBits[slot]!;
        if (extra !== 0) {
          if (bitCount < 16) {
            if (backPos >= 0) {
              bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
              backPos -= 2;
            }
            bitCount += 16;
          }
          if (extra <= 16) {
            offset += bitBuf >>> (32 - extra);
            bitBuf <<= extra;
            bitCount -= extra;
          } else {
            const highBits = extra - 16;
            let value = bitBuf >>> (32 - highBits);
            bitBuf <<= highBits;
            bitCount -= highBits;
            if (bitCount < 16) {
              if (backPos >= 0) {
                bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
                backPos -= 2;
              }
              bitCount += 16;
            }
            value = (value << 16) | (bitBuf >>> 16);
            bitBuf <<= 16;
            bitCount -= 16;
            offset += value;
          }
        }
      }

      // ---- length: slot, then extra bits ----
      let length: number;
      {
        if (bitCount < 16) {
          if (backPos >= 0) {
            bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
            backPos -= 2;
          }
          bitCount += 16;
        }
        let tableEntry = lengthTable[bitBuf >>> ROOT_SHIFT]!;
        if ((tableEntry & 0x80) !== 0) {
          bitBuf <<= ROOT_BITS;
          bitCount -= ROOT_BITS;
          tableEntry = lengthTable[(tableEntry >>> 8) + (bitBuf >>> (32 - (tableEntry & 0x7f)))]!;
        }
        const codeLength = tableEntry & 0xff;
        bitBuf <<= codeLength;
        bitCount -= codeLength;
        const slot = tableEntry >>> 8;
        lengthFreqs[slot]!++;
        if (--lengthCode.countdown === 0) this.#rebuildCode(lengthCode);
        length = lengthBase[slot]!;
        const extra = lengthExtraBits[slot]!;
        if (extra !== 0) {
          if (bitCount < 16) {
            if (backPos >= 0) {
              bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
              backPos -= 2;
            }
            bitCount += 16;
          }
          if (extra <= 16) {
            length += bitBuf >>> (32 - extra);
            bitBuf <<= extra;
            bitCount -= extra;
          } else {
            const highBits = extra - 16;
            let value = bitBuf >>> (32 - highBits);
            bitBuf <<= highBits;
            bitCount -= highBits;
            if (bitCount < 16) {
              if (backPos >= 0) {
                bitBuf |= (src[backPos]! | (src[backPos + 1]! << 8)) << (16 - bitCount);
                backPos -= 2;
              }
              bitCount += 16;
            }
            value = (value << 16) | (bitBuf >>> 16);
            bitBuf <<= 16;
            bitCount -= 16;
            length += value;
          }
        }
      }
      if (length > usize - pos) {
        throw new CodecError(
          `Cannot decompress LZMS chunk: match of ${length} bytes at position ${pos} overruns the chunk size of ${usize} bytes`,
        );
      }

      if (isDelta === 0) {
        // ---- LZ match: update the queue, then copy ----
        if (isRepeat === 0) {
          lz3 = lz2;
          lz2 = lz1;
          lz1 = lz0;
          lz0 = offset;
        } else {
          const slot = repIndex + (prevItem === ITEM_LZ ? 1 : 0);
          if (slot === 0) {
            offset = lz0;
          } else if (slot === 1) {
            offset = lz1;
            lz1 = lz0;
            lz0 = offset;
          } else if (slot === 2) {
            offset = lz2;
            lz2 = lz1;
            lz1 = lz0;
            lz0 = offset;
          } else {
            offset = lz3;
            lz3 = lz2;
            lz2 = lz1;
            lz1 = lz0;
            lz0 = offset;
          }
        }
        prevItem = ITEM_LZ;
        if (offset > pos) {
          throw new CodecError(
            `Cannot decompress LZMS chunk: match offset ${offset} exceeds position ${pos}`,
          );
        }
        pos = copyLzMatch(dst, pos, offset, length);
      } else {
        // ---- delta match ----
        let rawOffset: number;
        if (isRepeat === 0) {
          rawOffset = offset;
          dp3 = dp2;
          dp2 = dp1;
          dp1 = dp0;
          dp0 = power;
          dr3 = dr2;
          dr2 = dr1;
          dr1 = dr0;
          dr0 = rawOffset;
        } else {
          const slot = repIndex + (prevItem === ITEM_DELTA ? 1 : 0);
          if (slot === 0) {
            power = dp0;
            rawOffset = dr0;
          } else if (slot === 1) {
            power = dp1;
            rawOffset = dr1;
            dp1 = dp0;
            dr1 = dr0;
          } else if (slot === 2) {
            power = dp2;
            rawOffset = dr2;
            dp2 = dp1;
            dr2 = dr1;
            dp1 = dp0;
            dr1 = dr0;
          } else {
            power = dp3;
            rawOffset = dr3;
            dp3 = dp2;
            dr3 = dr2;
            dp2 = dp1;
            dr2 = dr1;
            dp1 = dp0;
            dr1 = dr0;
          }
          dp0 = power;
          dr0 = rawOffset;
        }
        prevItem = ITEM_DELTA;
        const span = 1 << power;
        const deltaOffset = rawOffset * span;
        if (deltaOffset + span > pos) {
          throw new CodecError(
            `Cannot decompress LZMS chunk: delta offset ${deltaOffset} with span ${span} exceeds position ${pos}`,
          );
        }
        pos = copyDeltaMatch(dst, pos, deltaOffset, span, length);
      }
    }
    literalCode.countdown = literalCountdown;

    lzmsX86Filter(dst, this.#x86Usages, true);
  }

  /** Starts `code` afresh for a chunk: `symbolCount` symbols, all of frequency 1. */
  #resetCode(code: AdaptiveCode, symbolCount: number): void {
    code.symbolCount = symbolCount;
    code.freqs.fill(1, 0, symbolCount);
    this.#buildTable(code);
    code.countdown = code.period;
  }

  /** Rebuilds `code` from its frequencies, then halves them and restarts the countdown. */
  #rebuildCode(code: AdaptiveCode): void {
    this.#buildTable(code);
    const freqs = code.freqs;
    for (let sym = 0; sym < code.symbolCount; sym++) freqs[sym] = (freqs[sym]! >>> 1) + 1;
    code.countdown = code.period;
  }

  /** Derives lengths from the frequencies and fills the decode table. */
  #buildTable(code: AdaptiveCode): void {
    const scratch = this.#codeScratch;
    const maxLength = buildLzmsCodeLengths(code.freqs, code.symbolCount, code.lengths, scratch);
    buildLzmsDecodeTable(
      code.lengths,
      code.symbolCount,
      scratch.depthCounts,
      maxLength,
      code.table,
      this.#tableSorted,
      this.#tableOffsets,
    );
  }
}

/*
 * The copy loops live outside decompress() on purpose: with inner loops in it, V8 sometimes
 * OSR-compiles one of them and then deoptimizes on every call ("exit from OSR'd inner loop"),
 * which was seen to halve the decode speed at random. decompress() keeps a single loop.
 */

/** Copies an LZ match of `length` bytes from `offset` back; returns the new position. */
function copyLzMatch(dst: Uint8Array, pos: number, offset: number, length: number): number {
  const end = pos + length;
  if (length >= NATIVE_COPY_MIN_LENGTH) {
    if (offset >= length) {
      dst.copyWithin(pos, pos - offset, end - offset);
      return end;
    }
    if (offset === 1) {
      dst.fill(dst[pos - 1]!, pos, end);
      return end;
    }
  }
  for (; pos < end; pos++) dst[pos] = dst[pos - offset]!;
  return end;
}

/** Writes a delta match of `length` bytes (§4.6); returns the new position. */
function copyDeltaMatch(
  dst: Uint8Array,
  pos: number,
  deltaOffset: number,
  span: number,
  length: number,
): number {
  const end = pos + length;
  for (; pos < end; pos++) {
    dst[pos] = dst[pos - deltaOffset]! + dst[pos - span]! - dst[pos - deltaOffset - span]!;
  }
  return end;
}

/**
 * Fills a two-level decode table (the layout of huffman.ts, root {@linkcode ROOT_BITS} bits) for a
 * complete code whose symbols all have lengths 1..`maxLength`, `counts[len]` of each length.
 *
 * Faster than the general builder for LZMS's frequent rebuilds: no validity checks (the code is
 * complete by construction), plain loops instead of `fill` calls, and every sub-table sized for
 * the longest code (`maxLength - ROOT_BITS` bits).
 */
function buildLzmsDecodeTable(
  lengths: Uint8Array,
  symbolCount: number,
  counts: Uint32Array,
  maxLength: number,
  table: Uint32Array,
  sorted: Uint16Array,
  offsets: Uint16Array,
): void {
  // Canonical order: by length, then by symbol (a counting sort over symbols).
  let sum = 0;
  for (let len = 1; len <= maxLength; len++) {
    offsets[len] = sum;
    sum += counts[len]!;
  }
  for (let sym = 0; sym < symbolCount; sym++) sorted[offsets[lengths[sym]!]!++] = sym;

  let index = 0;
  let pos = 0;
  const rootMax = maxLength < ROOT_BITS ? maxLength : ROOT_BITS;
  for (let len = 1; len <= rootMax; len++) {
    const step = 1 << (ROOT_BITS - len);
    for (const end = index + counts[len]!; index < end; index++) {
      const entry = (sorted[index]! << 8) | len;
      for (const stop = pos + step; pos < stop; pos++) table[pos] = entry;
    }
  }
  if (maxLength <= ROOT_BITS) return;
  const subBits = maxLength - ROOT_BITS;
  const subMask = (1 << subBits) - 1;
  let nextSubtable = 1 << ROOT_BITS;
  let currentPrefix = -1;
  let subStart = 0;
  let virtualPos = pos << subBits; // position in a 2^maxLength code space
  for (let len = ROOT_BITS + 1; len <= maxLength; len++) {
    const step = 1 << (maxLength - len);
    for (const end = index + counts[len]!; index < end; index++) {
      const prefix = virtualPos >>> subBits;
      if (prefix !== currentPrefix) {
        currentPrefix = prefix;
        subStart = nextSubtable;
        nextSubtable += 1 << subBits;
        table[prefix] = (subStart << 8) | SUBTABLE_FLAG | subBits;
      }
      const entry = (sorted[index]! << 8) | (len - ROOT_BITS);
      let at = subStart + (virtualPos & subMask);
      for (const stop = at + step; at < stop; at++) table[at] = entry;
      virtualPos += step;
    }
  }
}
