/**
 * Two threads on one LZMS chunk: one runs the match finder over a shared chunk and streams each
 * position's matches through a ring in shared memory, the other parses and encodes, reading them.
 *
 * This is how a 64 MiB solid chunk uses both cores while only one chunk is in memory. The finder
 * reports the same matches wherever it runs, so the output is the bytes of
 * {@linkcode LzmsCompressor.compress}. Both sides block with `Atomics.wait`, so both must be
 * workers. The ring holds `[position, count, length, offset, ...]` entries; its counters are 32-bit
 * and wrap, only their differences matter.
 */

import { CodecError } from "../errors.ts";
import { LZMS_X86_TARGET_TABLE_SIZE, lzmsX86Filter } from "./lzms_common.ts";
import type { LzmsCompressor } from "./lzms_compress.ts";
import {
  LZMS_MAX_MATCHES_PER_POS,
  type LzmsMatchFinder,
  type LzmsMatchSource,
} from "./lzms_match_finder.ts";

/** Header slots (Int32): counters, then flags. */
const PRODUCED = 0;
const CONSUMED = 1;
const FILTERED = 2;
const DONE = 3;
const ABORTED = 4;
const FAILED = 5;
const HEADER_INTS = 16;
/** Ring entries area, in Int32s (1 MiB). */
const RING_INTS = 1 << 18;
const RING_MASK = RING_INTS - 1;
/** How often each side publishes its counter, in Int32s. */
const PUBLISH_STEP = 1 << 12;
/** Longest wait before checking the other side's flags again, ms. */
const WAIT_MS = 200;
/** Largest entry: position, count, then a pair per match. */
const MAX_ENTRY_INTS = 2 + 2 * LZMS_MAX_MATCHES_PER_POS;

/**
 * Shared memory for one chunk's match stream.
 *
 * @example
 * ```ts
 * import { createMatchRing } from "./lzms_match_ring.ts";
 * import assert from "node:assert/strict";
 * assert.ok(createMatchRing().byteLength > 1 << 20);
 * ```
 */
export function createMatchRing(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * (HEADER_INTS + RING_INTS));
}

/** Clears a ring's counters and flags for its next chunk (both sides of the last are done). */
export function resetMatchRing(ring: SharedArrayBuffer): void {
  new Int32Array(ring, 0, HEADER_INTS).fill(0);
}

/**
 * Ends a ring's exchange from either side after a failure: a finder waiting for room and an
 * encoder waiting for matches both stop, instead of waiting for each other for ever.
 *
 * @example
 * ```ts
 * import { abortMatchRing, createMatchRing, LzmsMatchRingReader } from "./lzms_match_ring.ts";
 * import assert from "node:assert/strict";
 * const ring = createMatchRing();
 * abortMatchRing(ring);
 * assert.throws(() => new LzmsMatchRingReader(ring).waitFiltered(), /match finder failed/);
 * ```
 */
export function abortMatchRing(ring: SharedArrayBuffer): void {
  const header = new Int32Array(ring, 0, HEADER_INTS);
  Atomics.store(header, FAILED, 1);
  Atomics.store(header, ABORTED, 1);
  Atomics.store(header, DONE, 1);
  for (const slot of [PRODUCED, CONSUMED, FILTERED]) Atomics.notify(header, slot);
}

/**
 * The finder's side: x86-filters `data` in place (the chunk is shared with the encoder), then
 * streams the matches of every position into `ring` until done or until the reader aborts.
 *
 * @example
 * ```ts ignore
 * // in one worker, while another runs encodeWithMatchRing(compressor, chunk, output, ring)
 * produceMatches(chunk, ring, compressor.createMatchFinder());
 * ```
 */
export function produceMatches(
  data: Uint8Array,
  ring: SharedArrayBuffer,
  finder: LzmsMatchFinder,
): void {
  const header = new Int32Array(ring, 0, HEADER_INTS);
  const entries = new Int32Array(ring, 4 * HEADER_INTS, RING_INTS);
  try {
    lzmsX86Filter(data, new Int32Array(LZMS_X86_TARGET_TABLE_SIZE + 1), false);
    Atomics.store(header, FILTERED, 1);
    Atomics.notify(header, FILTERED);
    finder.reset(data);
    const lengths = new Int32Array(LZMS_MAX_MATCHES_PER_POS);
    const offsets = new Int32Array(LZMS_MAX_MATCHES_PER_POS);
    let written = 0;
    let published = 0;
    let consumed = 0;
    const last = data.length - 2;
    for (let pos = 0; pos < last; pos++) {
      if (RING_INTS - ((written - consumed) | 0) < MAX_ENTRY_INTS) {
        Atomics.store(header, PRODUCED, written);
        Atomics.notify(header, PRODUCED);
        published = written;
        for (;;) {
          consumed = Atomics.load(header, CONSUMED);
          if (Atomics.load(header, ABORTED)) return;
          if (RING_INTS - ((written - consumed) | 0) >= MAX_ENTRY_INTS) break;
          Atomics.wait(header, CONSUMED, consumed, WAIT_MS);
        }
      }
      const count = finder.find(pos, lengths, offsets, true);
      entries[written & RING_MASK] = pos;
      entries[(written + 1) & RING_MASK] = count;
      let at = written + 2;
      for (let m = 0; m < count; m++) {
        entries[at & RING_MASK] = lengths[m]!;
        entries[(at + 1) & RING_MASK] = offsets[m]!;
        at += 2;
      }
      written = at | 0;
      if (((written - published) | 0) >= PUBLISH_STEP) {
        Atomics.store(header, PRODUCED, written);
        Atomics.notify(header, PRODUCED);
        published = written;
      }
    }
    Atomics.store(header, PRODUCED, written);
  } catch (error) {
    Atomics.store(header, FAILED, 1);
    throw error;
  } finally {
    Atomics.store(header, DONE, 1);
    Atomics.notify(header, PRODUCED);
    Atomics.notify(header, FILTERED);
  }
}

/**
 * The encoder's side: a match source reading the stream {@linkcode produceMatches} writes.
 *
 * @example
 * ```ts ignore
 * const reader = new LzmsMatchRingReader(ring);
 * reader.waitFiltered();
 * const size = new LzmsCompressor().compressFiltered(chunk, dst, reader);
 * reader.close();
 * ```
 */
export class LzmsMatchRingReader implements LzmsMatchSource {
  readonly #header: Int32Array;
  readonly #entries: Int32Array;
  #read = 0;
  #available = 0;
  #published = 0;

  constructor(ring: SharedArrayBuffer) {
    this.#header = new Int32Array(ring, 0, HEADER_INTS);
    this.#entries = new Int32Array(ring, 4 * HEADER_INTS, RING_INTS);
  }

  /** Blocks until the finder has x86-filtered the shared chunk. */
  waitFiltered(): void {
    const header = this.#header;
    while (!Atomics.load(header, FILTERED)) {
      if (Atomics.load(header, DONE)) throw new CodecError("the LZMS match finder failed");
      Atomics.wait(header, FILTERED, 0, WAIT_MS);
    }
  }

  find(pos: number, lengths: Int32Array, offsets: Int32Array, record: boolean): number {
    const entries = this.#entries;
    this.#need(2);
    const at = this.#read;
    const entryPos = entries[at & RING_MASK]!;
    const count = entries[(at + 1) & RING_MASK]!;
    if (entryPos !== pos) {
      throw new CodecError(`LZMS match stream out of step: position ${entryPos} for ${pos}`);
    }
    this.#need(2 + 2 * count);
    if (record) {
      for (let m = 0, i = at + 2; m < count; m++, i += 2) {
        lengths[m] = entries[i & RING_MASK]!;
        offsets[m] = entries[(i + 1) & RING_MASK]!;
      }
    }
    this.#read = (at + 2 + 2 * count) | 0;
    if (((this.#read - this.#published) | 0) >= PUBLISH_STEP) this.#publish();
    return count;
  }

  /** Tells the finder to stop (it may be waiting for room) once the encoder is done or failed. */
  close(): void {
    Atomics.store(this.#header, ABORTED, 1);
    Atomics.notify(this.#header, CONSUMED);
  }

  /** Blocks until `ints` Int32s past the read position are published. */
  #need(ints: number): void {
    if (((this.#available - this.#read) | 0) >= ints) return;
    const header = this.#header;
    this.#publish();
    for (;;) {
      const produced = Atomics.load(header, PRODUCED);
      this.#available = produced;
      if (((produced - this.#read) | 0) >= ints) return;
      if (Atomics.load(header, DONE) && Atomics.load(header, PRODUCED) === produced) {
        throw new CodecError(
          Atomics.load(header, FAILED)
            ? "the LZMS match finder failed"
            : "LZMS match stream ended early",
        );
      }
      Atomics.wait(header, PRODUCED, produced, WAIT_MS);
    }
  }

  #publish(): void {
    this.#published = this.#read;
    Atomics.store(this.#header, CONSUMED, this.#read);
    Atomics.notify(this.#header, CONSUMED);
  }
}

/**
 * The encoder's side of a shared chunk: encodes `input` (shared with the worker running
 * {@linkcode produceMatches} on it) into `output` with the streamed matches. Returns the stored
 * chunk, a view of `output`; when the chunk does not shrink it is restored (x86 filter undone) and
 * copied raw, `input.length` bytes.
 *
 * @example
 * ```ts ignore
 * const stored = encodeWithMatchRing(new LzmsCompressor(), chunk, output, ring);
 * ```
 */
export function encodeWithMatchRing(
  compressor: LzmsCompressor,
  input: Uint8Array,
  output: Uint8Array,
  ring: SharedArrayBuffer,
): Uint8Array {
  const reader = new LzmsMatchRingReader(ring);
  try {
    reader.waitFiltered();
    const compressed = input.length > 1
      ? compressor.compressFiltered(input, output.subarray(0, input.length - 1), reader)
      : null;
    if (compressed) return compressed;
    lzmsX86Filter(input, new Int32Array(LZMS_X86_TARGET_TABLE_SIZE + 1), true);
    output.set(input);
    return output.subarray(0, input.length);
  } finally {
    reader.close();
  }
}
