/**
 * The WIM behind an image view: reads the unchanged contents of the image by ranged reads
 * (lib/wim/blob_range.ts), counts the chunks that cost, and after a commit or discard moves on to
 * the WIM opened again, while streams still reading the old one keep working (its bytes stay
 * where they were).
 */

import { WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { BlobInfo } from "../wim/blob_location.ts";
import { BlobRangeReader } from "../wim/blob_range.ts";
import type { ContentSource } from "../wim/new_image.ts";
import { Wim } from "../wim/wim.ts";

/** Counters of the reads an image view made from its WIM (see `imageViewStats`). */
export interface ImageViewStats {
  /** Chunks decompressed since the view opened (cache hits are not counted). */
  readonly decodedChunks: number;
  /** Bytes of decoded chunks held in the cache now. */
  readonly cachedBytes: number;
}

/**
 * One image of a WIM, for reading its contents; {@linkcode WimContents.reopen} moves it to
 * another image of the same file, read again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WimContents } from "./wim_contents.ts";
 * import { InlineChunkPool } from "../codecs/chunk_pool.ts";
 * import { Wim } from "../wim/wim.ts";
 * using pool = new InlineChunkPool();
 * const contents = new WimContents(await Wim.open("tests/fixtures/lzx.wim"), 1, pool, undefined);
 * assert.equal(contents.stats.decodedChunks, 0);
 * contents.close();
 * ```
 */
export class WimContents {
  #wim: Wim;
  #index: number;
  #reader: BlobRangeReader;
  readonly #pool: ChunkPool;
  readonly #cacheBytes: number | undefined;
  readonly #oldWims: Wim[] = [];
  /** Chunks decoded by readers replaced at a reopen. */
  #decodedBefore = 0;

  constructor(wim: Wim, index: number, pool: ChunkPool, cacheBytes: number | undefined) {
    this.#wim = wim;
    this.#index = index;
    this.#pool = pool;
    this.#cacheBytes = cacheBytes;
    this.#reader = this.#newReader();
  }

  /** The WIM open now. */
  get wim(): Wim {
    return this.#wim;
  }

  /** The 1-based index of the image. */
  get index(): number {
    return this.#index;
  }

  /** Read counters, across reopens. */
  get stats(): ImageViewStats {
    return {
      decodedChunks: this.#decodedBefore + this.#reader.decodedChunks,
      cachedBytes: this.#reader.cachedBytes,
    };
  }

  /** Reads `length` bytes at `offset` of the content of the file at `path`. */
  async read(
    content: ContentSource,
    path: string,
    offset: number,
    length: number,
  ): Promise<Uint8Array> {
    return await this.#reader.read(this.#blobOf(content, path), offset, length);
  }

  /** Streams bytes `offset` to `end` of the content of the file at `path`. */
  stream(
    content: ContentSource,
    path: string,
    offset: number,
    end: number,
  ): ReadableStream<Uint8Array> {
    return this.#reader.stream(this.#blobOf(content, path), offset, end);
  }

  /** Streams a whole content: from its blob when the WIM has it, else from the source itself. */
  streamAll(content: ContentSource): ReadableStream<Uint8Array> {
    const blob = content.knownHash === undefined ? undefined : this.#wim.blob(content.knownHash);
    if (blob) return this.#reader.stream(blob);
    return ReadableStream.from(content.read());
  }

  /**
   * Opens the WIM again and reads image `index` of it with `readImage`; moves to it once that
   * succeeded.
   */
  async reopen<T>(index: number, readImage: (wim: Wim) => Promise<T>): Promise<T> {
    const wim = await Wim.open(this.#wim.path, { pool: this.#pool });
    let image: T;
    try {
      image = await readImage(wim);
    } catch (error) {
      wim.close();
      throw error;
    }
    this.#oldWims.push(this.#wim);
    this.#wim = wim;
    this.#index = index;
    this.#decodedBefore += this.#reader.decodedChunks;
    this.#reader = this.#newReader();
    return image;
  }

  /** Closes the WIM and every one it was opened as before. */
  close(): void {
    this.#wim.close();
    for (const wim of this.#oldWims) wim.close();
  }

  #newReader(): BlobRangeReader {
    return new BlobRangeReader(this.#pool, {
      fileName: this.#wim.path,
      ...(this.#cacheBytes === undefined ? {} : { cacheBytes: this.#cacheBytes }),
    });
  }

  #blobOf(content: ContentSource, path: string): BlobInfo {
    const blob = content.knownHash === undefined ? undefined : this.#wim.blob(content.knownHash);
    if (!blob) {
      throw new WimkitError(`Cannot read "${path}": its content is not in the WIM`, "format", {
        file: this.#wim.path,
        image: this.#index,
        path,
      });
    }
    return blob;
  }
}
