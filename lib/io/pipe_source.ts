/** A non-seekable byte stream (standard input, a pipe) read front to back in exact amounts. */

import { WimFormatError } from "../errors.ts";

/**
 * Reads a `ReadableStream` sequentially: exact reads, skips, and the position so far. Holds at
 * most one chunk of the stream besides what the caller asks for, so memory stays bounded.
 *
 * @example
 * ```ts
 * import { PipeSource } from "./pipe_source.ts";
 * import assert from "node:assert/strict";
 * const source = new PipeSource(new Blob([Uint8Array.of(1, 2, 3, 4)]).stream(), "memory");
 * await source.skip(1);
 * const two = await source.read(2);
 * assert.ok(two.join() === "2,3" && source.position === 3);
 * ```
 */
export class PipeSource {
  /** A name for messages ("standard input"). */
  readonly name: string;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #chunkPos = 0;
  #position = 0;
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>, name: string) {
    this.#reader = stream.getReader();
    this.name = name;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  /**
   * Reads exactly `length` bytes (into `into` when given).
   *
   * @param what What is being read, for the error message.
   * @throws {WimFormatError} If the stream ends first.
   */
  async read(length: number, into?: Uint8Array, what = "data"): Promise<Uint8Array> {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const piece = await this.#next(length - done, what);
      out.set(piece, done);
      done += piece.length;
    }
    return out;
  }

  /**
   * Reads and drops `length` bytes.
   *
   * @throws {WimFormatError} If the stream ends first.
   */
  async skip(length: number, what = "data"): Promise<void> {
    let done = 0;
    while (done < length) done += (await this.#next(length - done, what)).length;
  }

  /**
   * Reads up to `length` bytes as they arrive (at least one), without copying.
   *
   * @throws {WimFormatError} If the stream has ended.
   */
  readSome(length: number, what = "data"): Promise<Uint8Array> {
    return this.#next(length, what);
  }

  /** Reads to the end of the stream and returns its last `tail` bytes (fewer if shorter). */
  async readToEnd(tail: number): Promise<Uint8Array> {
    const kept = new Uint8Array(tail);
    let keptLength = 0;
    for (;;) {
      const piece = await this.#next(Infinity, "", true);
      if (piece.length === 0) break;
      if (piece.length >= tail) {
        kept.set(piece.subarray(piece.length - tail));
        keptLength = tail;
      } else {
        const keep = Math.min(keptLength, tail - piece.length);
        kept.copyWithin(0, keptLength - keep, keptLength);
        kept.set(piece, keep);
        keptLength = keep + piece.length;
      }
    }
    return kept.subarray(0, keptLength);
  }

  /** Stops reading (the rest of the stream is cancelled). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  async #next(max: number, what: string, endOk = false): Promise<Uint8Array> {
    while (this.#chunkPos >= this.#chunk.length) {
      const result = this.#ended ? { done: true as const } : await this.#reader.read();
      if (result.done || !result.value) {
        this.#ended = true;
        if (endOk) return new Uint8Array(0);
        throw new WimFormatError(
          `${this.name} ended after ${this.#position} bytes, in the middle of ${what} (truncated stream?)`,
        );
      }
      this.#chunk = result.value;
      this.#chunkPos = 0;
    }
    const take = Math.min(max, this.#chunk.length - this.#chunkPos);
    const piece = this.#chunk.subarray(this.#chunkPos, this.#chunkPos + take);
    this.#chunkPos += take;
    this.#position += take;
    return piece;
  }
}
