/** Random-access byte sources: what the wim layer reads WIM parts through. */

/**
 * A random-access source of bytes: a local file, later an HTTP resource.
 *
 * @example
 * ```ts
 * import { openFileSource } from "./file_source.ts";
 * import assert from "node:assert/strict";
 * await using source = openFileSource("tests/fixtures/xpress.wim");
 * const magic = await source.read(0, 5);
 * assert.ok(new TextDecoder().decode(magic) === "MSWIM");
 * ```
 */
export interface ByteSource extends AsyncDisposable {
  /** A name for messages (the path or URL). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset` (into `into` when given, which must be large enough).
   *
   * @throws {WimFormatError} If the range runs past the end of the source.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional advice: these ranges will be read soon, in file order. A remote source uses it to
   * fetch each run of adjacent ranges with one request; a local file ignores it.
   */
  willRead?(ranges: readonly ByteRange[]): void;
  /** Releases the source. */
  close(): void;
}

/** A range of bytes: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}
