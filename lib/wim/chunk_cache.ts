/**
 * Decoded chunks kept for reuse, bounded in bytes, least recently used first out. An entry is
 * added before its chunk is decoded, so concurrent readers of one chunk share one decode; entries
 * still decoding are never evicted (they count towards the bound, and readers hold their
 * promises, so eviction never loses data a reader waits for).
 */

/** One decoded (or decoding) chunk. */
interface Entry {
  readonly data: Promise<Uint8Array>;
  readonly size: number;
  settled: boolean;
}

/**
 * An LRU of decoded chunks keyed by string, bounded by `maxBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkCache } from "./chunk_cache.ts";
 * const cache = new ChunkCache(8);
 * cache.add("a", Promise.resolve(new Uint8Array(4)), 4);
 * assert.ok(cache.get("a") !== undefined);
 * ```
 */
export class ChunkCache {
  /** The bound on the bytes of settled entries plus entries in flight. */
  readonly maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #inflightBytes = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`invalid cache size ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes held, settled or in flight. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of entries still decoding. */
  get inflightBytes(): number {
    return this.#inflightBytes;
  }

  /** The chunk under `key`, marking it recently used. */
  get(key: string): Promise<Uint8Array> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.data;
  }

  /** True when `key` is present (without marking it used). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Adds a chunk that is decoding; a failed decode removes it, so the next reader retries.
   * Returns `data`, already marked as handled (await it to see its error).
   */
  add(key: string, data: Promise<Uint8Array>, size: number): Promise<Uint8Array> {
    const entry: Entry = { data, size, settled: false };
    const replaced = this.#entries.get(key);
    if (replaced) {
      // Only settled entries are replaced (callers check first); keep the byte count right.
      this.#entries.delete(key);
      this.#bytes -= replaced.size;
    }
    this.#entries.set(key, entry);
    this.#bytes += size;
    this.#inflightBytes += size;
    data.then(
      () => {
        entry.settled = true;
        this.#inflightBytes -= size;
        this.#evict();
      },
      () => {
        entry.settled = true;
        this.#inflightBytes -= size;
        if (this.#entries.get(key) === entry) {
          this.#entries.delete(key);
          this.#bytes -= size;
        }
      },
    );
    this.#evict();
    return data;
  }

  /** Drops every settled entry. */
  clear(): void {
    for (const [key, entry] of this.#entries) {
      if (!entry.settled) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.size;
    }
  }

  #evict(): void {
    if (this.#bytes <= this.maxBytes) return;
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) return;
      if (!entry.settled) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.size;
    }
  }
}
