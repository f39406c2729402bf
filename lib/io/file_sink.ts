/** A local file opened for positional writes (pwrite), as the WIM writer needs them. */

import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { osError } from "./file_source.ts";

/**
 * A file written at explicit offsets; reads are allowed too (for the integrity table).
 *
 * @example
 * ```ts
 * import { FileSink } from "./file_sink.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * const sink = FileSink.create(path);
 * sink.write(4, Uint8Array.of(1, 2));
 * sink.close();
 * assert.ok((await Deno.readFile(path)).length === 6);
 * await Deno.remove(path);
 * ```
 */
export class FileSink implements Disposable {
  /** The file's path. */
  readonly path: string;
  #fd: number | null;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** Creates (or truncates) `path` for writing. */
  static create(path: string): FileSink {
    try {
      return new FileSink(path, openSync(path, "w+"));
    } catch (error) {
      throw osError(`Cannot create "${path}"`, path, error);
    }
  }

  /** Opens an existing file for reading and writing, without truncating it. */
  static openExisting(path: string): FileSink {
    try {
      return new FileSink(path, openSync(path, "r+"));
    } catch (error) {
      throw osError(`Cannot open "${path}" for writing`, path, error);
    }
  }

  #descriptor(): number {
    if (this.#fd === null) throw new Error(`"${this.path}" is closed`);
    return this.#fd;
  }

  /** Writes all of `data` at `offset`. */
  write(offset: number, data: Uint8Array): void {
    const fd = this.#descriptor();
    let done = 0;
    try {
      while (done < data.length) {
        done += writeSync(fd, data, done, data.length - done, offset + done);
      }
    } catch (error) {
      throw osError(`Cannot write "${this.path}"`, this.path, error);
    }
  }

  /** Reads `length` bytes at `offset` into `into` (or a new buffer). */
  read(offset: number, length: number, into: Uint8Array = new Uint8Array(length)): Uint8Array {
    const fd = this.#descriptor();
    let done = 0;
    while (done < length) {
      const n = readSync(fd, into, done, length - done, offset + done);
      if (n === 0) {
        throw osError(`Cannot read "${this.path}"`, this.path, new Error("unexpected end of file"));
      }
      done += n;
    }
    return into.subarray(0, length);
  }

  /** Cuts the file to `size` bytes. */
  truncate(size: number): void {
    ftruncateSync(this.#descriptor(), size);
  }

  /** Flushes the file to disk. */
  sync(): void {
    try {
      fsyncSync(this.#descriptor());
    } catch (error) {
      throw osError(`Cannot flush "${this.path}"`, this.path, error);
    }
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
