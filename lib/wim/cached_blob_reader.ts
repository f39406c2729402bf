/**
 * Reads blobs through a {@linkcode BlobCache}: blobs the cache holds are served from it and never
 * read from the WIM; the others go through {@linkcode readBlobs} as one batch, as without a cache,
 * and are stored into the cache as they pass, kept only when their SHA-1 matches.
 *
 * The order of the output is the caller's order. The WIM reads run ahead of the cache hits (one
 * piece is requested early, which keeps the reader's jobs in flight while hits are served). A blob
 * the lookup found but that is gone or damaged by the time it is read (another process evicted
 * it) is read from the WIM on its own.
 */

import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { BlobInfo } from "./blob_location.ts";
import { type BlobPiece, readBlobs } from "./blob_reader.ts";
import type { BlobCache } from "./blob_cache.ts";

/** Options of {@linkcode readBlobsCached}. */
export interface CachedReadOptions {
  /** Name used in error messages. */
  fileName?: string;
  signal?: AbortSignal;
}

/**
 * Yields the data of `blobs` like {@linkcode readBlobs}, serving what `cache` holds from it.
 *
 * @example
 * ```ts ignore
 * for await (const piece of readBlobsCached(blobs, pool, cache)) hash.update(piece.data);
 * ```
 */
export async function* readBlobsCached(
  blobs: Iterable<BlobInfo>,
  pool: ChunkPool,
  cache: BlobCache,
  options: CachedReadOptions = {},
): AsyncGenerator<BlobPiece> {
  const wanted: { blob: BlobInfo; cached: boolean }[] = [];
  const misses: BlobInfo[] = [];
  for (const blob of blobs) {
    if (blob.size === 0) continue; // no pieces, as readBlobs
    const cached = await cache.has(blob.hashHex, blob.size);
    wanted.push({ blob, cached });
    if (!cached) misses.push(blob);
  }
  const fetched = new Lookahead(readBlobs(misses, pool, options));
  if (misses.length > 0) fetched.prefetch();
  try {
    for (const { blob, cached } of wanted) {
      options.signal?.throwIfAborted();
      if (cached) {
        using entry = await cache.open(blob.hashHex, blob.size);
        if (entry) {
          let offset = 0;
          for await (const data of entry.pieces()) {
            yield { blob, offset, data };
            offset += data.length;
          }
          continue;
        }
        yield* storeWhileReading(readBlobs([blob], pool, options), blob, cache);
        continue;
      }
      yield* storeWhileReading(fetched.piecesOf(blob), blob, cache);
    }
  } finally {
    await fetched.close();
  }
}

/**
 * Reads all of one blob into memory through `cache` (for metadata and small blobs).
 *
 * @example
 * ```ts ignore
 * const bytes = await readBlobBytesCached(wim.metadataBlob(1), pool, cache);
 * ```
 */
export async function readBlobBytesCached(
  blob: BlobInfo,
  pool: ChunkPool,
  cache: BlobCache,
  options: CachedReadOptions = {},
): Promise<Uint8Array> {
  const out = new Uint8Array(blob.size);
  for await (const piece of readBlobsCached([blob], pool, cache, options)) {
    out.set(piece.data, piece.offset);
  }
  return out;
}

/** Passes `pieces` on, writing them into the cache; the entry is kept only if it is complete. */
async function* storeWhileReading(
  pieces: AsyncIterable<BlobPiece>,
  blob: BlobInfo,
  cache: BlobCache,
): AsyncGenerator<BlobPiece> {
  const writer = cache.writer(blob.hashHex, blob.size);
  let complete = false;
  try {
    for await (const piece of pieces) {
      await writer.write(piece.data);
      yield piece;
    }
    complete = true;
  } finally {
    if (complete) await writer.commit();
    else await writer.abort();
  }
}

/** A piece generator with one request issued ahead. */
class Lookahead {
  readonly #source: AsyncGenerator<BlobPiece>;
  #next: Promise<IteratorResult<BlobPiece>> | null = null;

  constructor(source: AsyncGenerator<BlobPiece>) {
    this.#source = source;
  }

  /** Requests the next piece now; call only when the previous piece is no longer used. */
  prefetch(): void {
    if (this.#next) return;
    this.#next = this.#source.next();
    // Handled when taken; this keeps a failure during a run of cache hits from going unhandled.
    this.#next.catch(() => {});
  }

  /** The pieces of `blob`, which must be the next blob of the source. */
  async *piecesOf(blob: BlobInfo): AsyncGenerator<BlobPiece> {
    for (;;) {
      this.prefetch();
      const next = await this.#next!;
      this.#next = null;
      if (next.done || next.value.blob !== blob) {
        throw new Error(`internal error: blob ${blob.hashHex} is not next in the read order`);
      }
      yield next.value;
      if (next.value.offset + next.value.data.length === blob.size) {
        // The consumer is done with the last piece: start on the next blob's first one.
        this.prefetch();
        return;
      }
    }
  }

  /** Stops the source (after any piece request in flight settles). */
  async close(): Promise<void> {
    if (this.#next) await this.#next.catch(() => {});
    await this.#source.return(undefined);
  }
}
