/** Bytes an HTTP cursor passed over for a later read: a small FIFO keyed by file offset. */

/**
 * Skipped announced bytes kept for later reads, oldest dropped first beyond a total.
 *
 * @example
 * ```ts
 * import { Stash } from "./read_stash.ts";
 * import assert from "node:assert/strict";
 * const stash = new Stash(1024);
 * stash.put(100, new Uint8Array([1, 2, 3, 4]));
 * const out = new Uint8Array(2);
 * assert.ok(stash.take(101, out) && out[0] === 2 && out[1] === 3);
 * ```
 */
export class Stash {
  readonly #limit: number;
  #entries: { offset: number; bytes: Uint8Array; unread: number }[] = [];
  #total = 0;

  /** Keeps at most `limit` bytes. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keeps `bytes` (file offset `offset`) unless they alone exceed the limit. */
  put(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0 || bytes.length > this.#limit) return;
    this.#entries.push({ offset, bytes, unread: bytes.length });
    this.#total += bytes.length;
    while (this.#total > this.#limit) this.#total -= this.#entries.shift()!.bytes.length;
  }

  /** Copies `out.length` bytes at `offset` into `out` if one entry holds them all. */
  take(offset: number, out: Uint8Array): boolean {
    const index = this.#entries.findIndex((e) =>
      e.offset <= offset && offset + out.length <= e.offset + e.bytes.length
    );
    if (index < 0) return false;
    const entry = this.#entries[index]!;
    out.set(entry.bytes.subarray(offset - entry.offset, offset - entry.offset + out.length));
    entry.unread -= out.length;
    if (entry.unread <= 0) {
      this.#entries.splice(index, 1);
      this.#total -= entry.bytes.length;
    }
    return true;
  }
}
