/** A pipe (standard output) as a {@linkcode ByteSink}: writes must come in order. */

import { WimkitError } from "../errors.ts";
import type { ByteSink } from "./byte_sink.ts";

/** What a pipe sink writes to: `Deno.stdout`, or any synchronous writer. */
export interface SyncWriter {
  /** Writes some of `data`; returns how many bytes were written. */
  writeSync(data: Uint8Array): number;
}

/**
 * A sink that accepts only sequential writes (each at the offset where the last one ended), for
 * writing a pipable WIM to standard output.
 *
 * @example
 * ```ts
 * import { PipeSink } from "./pipe_sink.ts";
 * import assert from "node:assert/strict";
 * const parts: number[] = [];
 * const sink = new PipeSink({ writeSync: (d) => (parts.push(...d), d.length) }, "memory");
 * sink.write(0, Uint8Array.of(1, 2));
 * sink.write(2, Uint8Array.of(3));
 * assert.ok(parts.join() === "1,2,3" && sink.position === 3);
 * ```
 */
export class PipeSink implements ByteSink {
  /** A name for messages ("standard output"). */
  readonly path: string;
  readonly #writer: SyncWriter;
  #position = 0;

  constructor(writer: SyncWriter, name: string) {
    this.#writer = writer;
    this.path = name;
  }

  /** Bytes written so far. */
  get position(): number {
    return this.#position;
  }

  /**
   * Writes `data`, which must start where the previous write ended.
   *
   * @throws {RangeError} If `offset` is not the current position (a writer bug).
   * @throws {WimkitError} If the pipe is closed by its reader or fails.
   */
  write(offset: number, data: Uint8Array): void {
    if (offset !== this.#position) {
      throw new RangeError(
        `cannot write at offset ${offset} of ${this.path}: a pipe continues at ${this.#position}`,
      );
    }
    let done = 0;
    try {
      while (done < data.length) done += this.#writer.writeSync(data.subarray(done));
    } catch (error) {
      const reason = error instanceof Deno.errors.BrokenPipe
        ? "the reading side was closed"
        : error instanceof Error
        ? error.message
        : String(error);
      throw new WimkitError(`Cannot write to ${this.path}: ${reason}`, "io", { cause: error });
    }
    this.#position += data.length;
  }

  /** Pipes cannot be read back. */
  read(): Uint8Array {
    throw new RangeError(`cannot read back from ${this.path}`);
  }

  /** Accepts only the current size (nothing to cut). */
  truncate(size: number): void {
    if (size !== this.#position) {
      throw new RangeError(`cannot truncate ${this.path} to ${size} bytes`);
    }
  }

  /** Nothing to flush: every write has been handed to the pipe. */
  sync(): void {}

  /** The pipe belongs to the caller: nothing to close. */
  close(): void {}
}
