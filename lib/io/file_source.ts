/** A local file as a {@linkcode ByteSource}, read with positional reads (pread). */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { WimFormatError, WimkitError } from "../errors.ts";
import type { ByteSource } from "./byte_source.ts";

/**
 * Opens a local file for random-access reads.
 *
 * Reads are synchronous positional reads wrapped in promises: for local files this is several
 * times faster than Deno's async file API (stack.md §7) and keeps concurrent reads independent.
 *
 * @throws {WimkitError} If the file cannot be opened or is a directory.
 *
 * @example
 * ```ts
 * import { openFileSource } from "./file_source.ts";
 * import assert from "node:assert/strict";
 * await using source = openFileSource("tests/fixtures/xpress.wim");
 * assert.ok(source.size > 208);
 * ```
 */
export function openFileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw osError(`Cannot open "${path}"`, path, error);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new WimkitError(`Cannot open "${path}": not a regular file`, "io", { file: path });
  }
  let open = true;
  const source: ByteSource = {
    name: path,
    size: stat.size,
    read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
      if (offset < 0 || length < 0 || offset + length > stat.size) {
        return Promise.reject(
          new WimFormatError(
            `Cannot read "${path}": bytes ${offset}..${
              offset + length
            } run past the end of the file (${stat.size} bytes)`,
            { file: path },
          ),
        );
      }
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      try {
        while (done < length) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (n === 0) throw new Error("unexpected end of file");
          done += n;
        }
      } catch (error) {
        return Promise.reject(osError(`Cannot read "${path}"`, path, error));
      }
      return Promise.resolve(out);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
    [Symbol.asyncDispose]() {
      source.close();
      return Promise.resolve();
    },
  };
  return source;
}

/** Wraps an OS error with the file name and a short reason. */
export function osError(action: string, path: string, error: unknown): WimkitError {
  const code = (error as { code?: string }).code;
  const reason = code === "ENOENT"
    ? "no such file"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code === "EISDIR"
    ? "is a directory"
    : error instanceof Error
    ? error.message
    : String(error);
  return new WimkitError(`${action}: ${reason}`, code === "ENOENT" ? "not-found" : "io", {
    file: path,
    cause: error,
  });
}
