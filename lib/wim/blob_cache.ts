/**
 * A content-addressed blob cache on a directory: blobs' uncompressed bytes stored by SHA-1, shared
 * by several processes at once, bounded in size with the least recently used entries out.
 *
 * Layout: `DIR/CACHEDIR.TAG` (so backup tools skip the directory), `DIR/ab/cdef…` for the blob
 * whose SHA-1 is `abcdef…` (2 + 38 hex digits), and `DIR/ab/.tmp-*` for entries being written.
 *
 * The rules that make concurrent use safe without locks:
 * 1. An entry is immutable. It is written under a unique temporary name in its final directory
 *    and renamed into place, which is atomic, so a reader sees a whole entry or none. It is never
 *    modified afterwards, only unlinked or replaced by another process's identical entry (same
 *    SHA-1, same bytes).
 * 2. Readers open first and then read through the descriptor. An entry unlinked or replaced after
 *    the open stays readable (POSIX keeps an open file until it is closed).
 * 3. Every read checks the size and the SHA-1 before it hands out a byte. An entry that does not
 *    match (a crash tore it: writes are not fsynced; a disk error) is removed and counts as a
 *    miss. If another process renamed a good copy in between, that copy is removed too: a later
 *    miss, never wrong data.
 * 4. Recency is the entry's mtime. A lookup that finds an entry sets it to now. Eviction lists the
 *    entries, sorts them by mtime, and unlinks the oldest until the total is low enough. A missing
 *    file (another process evicted it first) is fine. Two evictors at once may remove a little
 *    more than needed, which is harmless.
 * 5. A lookup that found an entry may be wrong by the time the entry is read (evicted meanwhile).
 *    The reader then falls back to the WIM (see `cached_blob_reader.ts`).
 * 6. The 256 subdirectories are never removed, so no writer races an rmdir.
 * 7. Temporary files older than {@linkcode STALE_TEMP_MS} belong to killed writers and are removed
 *    by eviction. A live writer's temporary keeps a fresh mtime as it writes.
 * 8. Only names of the layout above are ever removed, so `--cache` pointed at the wrong directory
 *    cannot delete unrelated files.
 * 9. The bound: a process keeps an estimate of the total (its last scan plus its own stores). When
 *    a store would take the estimate past `maxBytes`, it rescans and evicts down to
 *    {@linkcode EVICT_TO_FRACTION} of `maxBytes` first, so one process alone never passes the
 *    bound. Several processes storing at once can pass it by what the others stored since the
 *    last scan, until the next store of any of them rescans.
 * 10. A failing cache (disk full, no permission) never fails a read: the entry is not stored and
 *     {@linkcode BlobCacheStats.errors} counts it.
 *
 * Directory scans and lookups use synchronous calls: each is one short system call, and a scan
 * of 100 000 entries takes a fraction of a second this way instead of seconds of async round trips.
 */

import { createHash } from "node:crypto";
import { WimkitError } from "../errors.ts";
import { CacheEntryWriter } from "./cache_entry_writer.ts";
import {
  entrySize,
  PIECE_BYTES,
  readAll,
  readFull,
  removeQuietly,
  scanEntries,
  touchEntry,
} from "./cache_files.ts";

export { CacheEntryWriter } from "./cache_entry_writer.ts";
export { STALE_TEMP_MS } from "./cache_files.ts";

/** Default bound of a cache: 10 GiB. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 2 ** 30;
/** Eviction brings the total down to this fraction of the bound, so it does not run per store. */
export const EVICT_TO_FRACTION = 0.9;
/** Entries up to this size are read and checked in memory; larger ones are read twice. */
const SMALL_ENTRY_BYTES = 8 << 20;
const CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n" +
  "# This file is a cache directory tag created by wimkit.\n" +
  "# For information about cache directory tags, see https://bford.info/cachedir/\n";

/** Options for {@linkcode BlobCache.open}. */
export interface BlobCacheOptions {
  /** Bound on the entries' total size (default {@linkcode DEFAULT_CACHE_MAX_BYTES}). */
  maxBytes?: number;
}

/** What this process did with the cache. */
export interface BlobCacheStats {
  /** Entries served (checked) and their bytes. */
  hits: number;
  hitBytes: number;
  /** Entries stored and their bytes. */
  stored: number;
  storedBytes: number;
  /** Entries evicted and their bytes. */
  evicted: number;
  evictedBytes: number;
  /** Entries removed because their size or SHA-1 was wrong. */
  discarded: number;
  /** Stores that failed (disk full, permissions); the reads went on without the cache. */
  errors: number;
}

/** A cache entry whose size and SHA-1 were checked; read it with `pieces()`, then dispose. */
export interface VerifiedEntry extends Disposable {
  /** Size in bytes. */
  readonly size: number;
  /** The bytes, in pieces; each piece is valid until the next is requested. */
  pieces(): AsyncGenerator<Uint8Array>;
}

/**
 * A blob cache on a directory; see the module doc for the rules of concurrent use.
 *
 * @example Store a blob and read it back
 * ```ts
 * import { BlobCache } from "@wimkit/wimkit";
 * import { createHash } from "node:crypto";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const cache = await BlobCache.open(dir, { maxBytes: 1 << 20 });
 * const data = new TextEncoder().encode("hello\n");
 * const hash = createHash("sha1").update(data).digest("hex");
 * assert.equal(await cache.put(hash, data), true);
 * assert.deepEqual(await cache.get(hash), data);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BlobCache {
  /** The cache directory. */
  readonly dir: string;
  /** Bound on the entries' total size. */
  readonly maxBytes: number;
  readonly #stats: BlobCacheStats = {
    hits: 0,
    hitBytes: 0,
    stored: 0,
    storedBytes: 0,
    evicted: 0,
    evictedBytes: 0,
    discarded: 0,
    errors: 0,
  };
  /** Estimated total of the entries, null until the first store scans the directory. */
  #estimate: number | null = null;

  private constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /**
   * Opens (creating if needed) the cache in `dir`.
   *
   * @throws {WimkitError} code "io" when the directory cannot be created or written.
   * @throws {RangeError} When `maxBytes` is not a whole number of bytes.
   */
  static async open(dir: string, options: BlobCacheOptions = {}): Promise<BlobCache> {
    const maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`invalid cache bound ${maxBytes}`);
    }
    try {
      await Deno.mkdir(dir, { recursive: true });
      const tag = `${dir}/CACHEDIR.TAG`;
      if (!await exists(tag)) await Deno.writeTextFile(tag, CACHEDIR_TAG);
    } catch (error) {
      throw new WimkitError(`Cannot use cache directory "${dir}": ${reason(error)}`, "io", {
        file: dir,
        cause: error,
      });
    }
    return new BlobCache(dir, maxBytes);
  }

  /** What this process did with the cache so far. */
  get stats(): Readonly<BlobCacheStats> {
    return { ...this.#stats };
  }

  /** Path of the entry for `hashHex`. */
  entryPath(hashHex: string): string {
    const hash = checkHash(hashHex);
    return `${this.dir}/${hash.slice(0, 2)}/${hash.slice(2)}`;
  }

  /**
   * True when an entry of `size` bytes is stored for `hashHex`; marks it as just used. Its
   * contents are checked only when read.
   */
  has(hashHex: string, size: number): Promise<boolean> {
    return Promise.resolve(touchEntry(this.entryPath(hashHex), size));
  }

  /**
   * Opens the entry for `hashHex` and checks its size and SHA-1; null on a miss. A wrong entry
   * is removed and reported as a miss.
   */
  async open(hashHex: string, size: number): Promise<VerifiedEntry | null> {
    const path = this.entryPath(hashHex);
    if (size <= SMALL_ENTRY_BYTES) {
      const bytes = await Deno.readFile(path).catch(() => null);
      if (!bytes) return null;
      if (bytes.length !== size || sha1Hex(bytes) !== hashHex) return this.#discard(path);
      this.#count(size);
      return {
        size,
        async *pieces() {
          yield bytes;
        },
        [Symbol.dispose]() {},
      };
    }
    const file = await Deno.open(path).catch(() => null);
    if (!file) return null;
    try {
      const hash = createHash("sha1");
      const length = await readAll(file, size, (piece) => hash.update(piece));
      if (length !== size || hash.digest("hex") !== hashHex) {
        file.close();
        return this.#discard(path);
      }
    } catch {
      file.close();
      return null;
    }
    this.#count(size);
    return {
      size,
      async *pieces() {
        await file.seek(0, Deno.SeekMode.Start);
        const buffer = new Uint8Array(Math.min(PIECE_BYTES, size));
        for (let done = 0; done < size;) {
          const piece = await readFull(
            file,
            buffer.subarray(0, Math.min(buffer.length, size - done)),
          );
          done += piece.length;
          yield piece;
        }
      },
      [Symbol.dispose]() {
        file.close();
      },
    };
  }

  /** Reads and checks the whole entry for `hashHex`; null on a miss. Marks it as just used. */
  async get(hashHex: string): Promise<Uint8Array | null> {
    const path = this.entryPath(hashHex);
    const size = entrySize(path);
    if (size === null) return null;
    using entry = await this.open(hashHex, size);
    if (!entry) return null;
    touchEntry(path, size);
    const out = new Uint8Array(size);
    let offset = 0;
    for await (const piece of entry.pieces()) {
      out.set(piece, offset);
      offset += piece.length;
    }
    return out;
  }

  /** Stores `data` as the entry for `hashHex`; false when it is not stored (wrong SHA-1, too big). */
  async put(hashHex: string, data: Uint8Array): Promise<boolean> {
    const writer = this.writer(hashHex, data.length);
    await writer.write(data);
    return await writer.commit();
  }

  /** A writer that stores a blob of `size` bytes piece by piece (for blobs read as a stream). */
  writer(hashHex: string, size: number): CacheEntryWriter {
    const final = this.entryPath(hashHex);
    return new CacheEntryWriter(
      hashHex,
      size,
      final,
      (temp) => this.#admit(temp, final, size),
      () => {
        this.#stats.errors++;
      },
    );
  }

  /**
   * Removes least recently used entries until their total is at most `targetBytes`, and
   * temporaries of killed writers.
   *
   * @returns the entries and bytes removed and the total left.
   */
  evict(
    targetBytes = Math.floor(this.maxBytes * EVICT_TO_FRACTION),
  ): Promise<{ entries: number; bytes: number; totalBytes: number }> {
    const entries = scanEntries(this.dir);
    let total = 0;
    for (const entry of entries) total += entry.size;
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1));
    let removed = 0;
    let removedBytes = 0;
    for (const entry of entries) {
      if (total <= targetBytes) break;
      removeQuietly(entry.path);
      total -= entry.size;
      removed++;
      removedBytes += entry.size;
    }
    this.#stats.evicted += removed;
    this.#stats.evictedBytes += removedBytes;
    this.#estimate = total;
    return Promise.resolve({ entries: removed, bytes: removedBytes, totalBytes: total });
  }

  /** Total size of the entries now in the directory (a scan). */
  totalBytes(): Promise<number> {
    let total = 0;
    for (const entry of scanEntries(this.dir)) total += entry.size;
    return Promise.resolve(total);
  }

  /** Makes room for and renames a complete, checked temporary into place. */
  async #admit(temp: string, final: string, size: number): Promise<boolean> {
    if (size > this.maxBytes) return false;
    if (entrySize(final) === size) return false; // another process stored it meanwhile
    this.#estimate ??= await this.totalBytes();
    if (this.#estimate + size > this.maxBytes) {
      await this.evict(Math.max(0, Math.floor(this.maxBytes * EVICT_TO_FRACTION) - size));
    }
    await Deno.rename(temp, final);
    this.#estimate = (this.#estimate ?? 0) + size;
    this.#stats.stored++;
    this.#stats.storedBytes += size;
    return true;
  }

  #count(size: number): void {
    this.#stats.hits++;
    this.#stats.hitBytes += size;
  }

  #discard(path: string): null {
    removeQuietly(path);
    this.#stats.discarded++;
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

function checkHash(hashHex: string): string {
  if (!/^[0-9a-f]{40}$/.test(hashHex)) {
    throw new RangeError(`not a lower-case hex SHA-1: "${hashHex}"`);
  }
  return hashHex;
}

function reason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR" || code === "EEXIST") return "not a directory";
  return error instanceof Error ? error.message : String(error);
}
