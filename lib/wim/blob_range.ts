/**
 * Ranged reads of blobs: bytes [offset, offset + length) of a blob, decoding only the chunks the
 * range touches (wim-format.md §4, §5), for uncompressed, chunked and solid resources.
 *
 * Decoded chunks go to a shared {@linkcode ChunkCache} bounded in bytes, so concurrent readers of
 * one chunk decode it once and a 64 MiB solid chunk is not decoded again for every 128 KiB read.
 * A reader that continues where its last read ended (a FUSE client reading a file in order) or a
 * {@linkcode BlobRangeReader.stream} gets read-ahead: the next chunks are decoded on the pool in
 * jobs of about {@linkcode JOB_TARGET_BYTES} while the current ones are consumed. A random read
 * gets no read-ahead: it decodes exactly the chunks it touches, which {@linkcode
 * BlobRangeReader.decodedChunks} counts.
 */

import { createHash } from "node:crypto";
import { CodecError, WimFormatError, WimIntegrityError, WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { isCompressedResource } from "../format/resource_header.ts";
import {
  type BlobInfo,
  type ChunkLayout,
  chunkUncompressedSize,
  readChunkLayout,
} from "./blob_location.ts";
import { ChunkCache } from "./chunk_cache.ts";

/** Output bytes one decode job aims for (a worker round trip costs ~0.2 ms). */
export const JOB_TARGET_BYTES = 1 << 20;
/** Default bound on cached decoded chunks: two 64 MiB solid chunks. */
export const DEFAULT_CACHE_BYTES = 128 << 20;
/** Default read-ahead of sequential readers. */
export const DEFAULT_READ_AHEAD_BYTES = 8 << 20;
/** Piece size of {@linkcode BlobRangeReader.stream}. */
const STREAM_PIECE_BYTES = 1 << 20;
/** Chunk layouts of non-solid resources kept (each is 8 bytes per chunk). */
const MAX_LAYOUTS = 256;
/** Sequential-reader positions remembered. */
const MAX_TRACKED_READERS = 256;

/** Options for {@linkcode BlobRangeReader}. */
export interface BlobRangeOptions {
  /** Bound on decoded chunks kept for reuse, in bytes (default {@linkcode DEFAULT_CACHE_BYTES}). */
  cacheBytes?: number;
  /** Bytes decoded ahead of sequential readers (default {@linkcode DEFAULT_READ_AHEAD_BYTES}). */
  readAheadBytes?: number;
  /** Name of the WIM, for error messages. */
  fileName?: string;
}

/** How a blob's bytes are reached. */
type Placement =
  | { readonly kind: "raw"; readonly source: ByteSource; readonly fileOffset: number }
  | {
    readonly kind: "chunked";
    readonly layout: ChunkLayout;
    /** Offset of the blob in the resource's uncompressed bytes. */
    readonly base: number;
    /** Cache key prefix of the resource. */
    readonly key: string;
  };

/**
 * Reads ranges of blobs through a chunk cache and a {@linkcode ChunkPool}.
 *
 * @example Read 5 bytes in the middle of a blob
 * ```ts
 * import assert from "node:assert/strict";
 * import { Wim } from "@wimkit/wimkit";
 * import { BlobRangeReader } from "./blob_range.ts";
 * import { InlineChunkPool } from "../codecs/chunk_pool.ts";
 * using pool = new InlineChunkPool();
 * await using wim = await Wim.open("tests/fixtures/lzx.wim", { pool });
 * const reader = new BlobRangeReader(pool);
 * const blob = wim.blob("f572d396fae9206628714fb2ce00f72e94f2258f")!;
 * const bytes = await reader.read(blob, 1, 3);
 * assert.ok(new TextDecoder().decode(bytes) === "ell");
 * ```
 */
export class BlobRangeReader {
  readonly #pool: ChunkPool;
  readonly #cache: ChunkCache;
  readonly #readAheadBytes: number;
  readonly #fileName: string | undefined;
  readonly #layouts = new Map<string, Promise<ChunkLayout>>();
  readonly #sourceIds = new WeakMap<ByteSource, number>();
  readonly #nextOffsets = new Map<string, number>();
  #decodedChunks = 0;

  constructor(pool: ChunkPool, options: BlobRangeOptions = {}) {
    this.#pool = pool;
    this.#cache = new ChunkCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.#readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    this.#fileName = options.fileName;
  }

  /** Chunks decoded so far (for tests and statistics). */
  get decodedChunks(): number {
    return this.#decodedChunks;
  }

  /** Bytes of decoded chunks held in the cache (settled or decoding). */
  get cachedBytes(): number {
    return this.#cache.bytes;
  }

  /**
   * Reads up to `length` bytes of `blob` at `offset` (shorter only at the end of the blob). A read
   * that starts where the previous read of the same blob ended also decodes ahead.
   *
   * @throws {CodecError} If a chunk fails to decode.
   * @throws {WimFormatError} If the resource is malformed.
   */
  async read(blob: BlobInfo, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    const end = Math.min(blob.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const sequential = offset > 0 && this.#nextOffsets.get(blob.hashHex) === offset;
    this.#nextOffsets.delete(blob.hashHex);
    this.#nextOffsets.set(blob.hashHex, end);
    if (this.#nextOffsets.size > MAX_TRACKED_READERS) {
      this.#nextOffsets.delete(this.#nextOffsets.keys().next().value!);
    }
    const ahead = sequential ? Math.min(blob.size, end + this.#readAheadBytes) : end;
    return await this.#readRange(blob, offset, end, ahead);
  }

  /**
   * Streams `blob` from `start` to `end` (exclusive), decoding ahead on the pool. A stream of the
   * whole blob checks its SHA-1 at the end and errors with {@linkcode WimIntegrityError} on a
   * mismatch.
   */
  stream(blob: BlobInfo, start = 0, end: number = blob.size): ReadableStream<Uint8Array> {
    checkRange(start, end - start);
    const stop = Math.min(end, blob.size);
    let pos = Math.min(start, stop);
    const hash = pos === 0 && stop === blob.size ? createHash("sha1") : undefined;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pos >= stop) {
          if (hash) this.#checkHash(blob, hash.digest("hex"));
          controller.close();
          return;
        }
        const pieceEnd = Math.min(stop, pos + STREAM_PIECE_BYTES);
        const ahead = Math.min(stop, pieceEnd + this.#readAheadBytes);
        const bytes = await this.#readRange(blob, pos, pieceEnd, ahead);
        hash?.update(bytes);
        pos = pieceEnd;
        controller.enqueue(bytes);
      },
    }, { highWaterMark: 0 });
  }

  #checkHash(blob: BlobInfo, digest: string): void {
    if (digest === blob.hashHex) return;
    throw new WimIntegrityError(
      `Cannot read blob ${blob.hashHex}${this.#where()}: its data has SHA-1 ${digest}`,
      this.#context(),
    );
  }

  async #readRange(blob: BlobInfo, start: number, end: number, ahead: number) {
    try {
      const placement = await this.#placement(blob);
      if (placement.kind === "raw") {
        return await placement.source.read(placement.fileOffset + start, end - start);
      }
      return await this.#readChunks(placement, start, end, ahead);
    } catch (error) {
      if (!(error instanceof WimkitError) || error.file !== undefined) throw error;
      const Kind = error instanceof CodecError ? CodecError : WimFormatError;
      throw new Kind(`Cannot read blob ${blob.hashHex}${this.#where()}: ${error.message}`, {
        ...this.#context(),
        cause: error,
      });
    }
  }

  async #readChunks(
    placement: Placement & { kind: "chunked" },
    start: number,
    end: number,
    ahead: number,
  ) {
    const { layout, base } = placement;
    const size = layout.chunkSize;
    const first = Math.floor((base + start) / size);
    const last = Math.floor((base + end - 1) / size);
    const aheadLast = Math.floor((base + ahead - 1) / size);
    const chunks = this.#schedule(placement, first, last, aheadLast);
    const out = new Uint8Array(end - start);
    for (let index = first; index <= last; index++) {
      const data = await chunks[index - first]!;
      const chunkStart = index * size;
      const from = Math.max(base + start, chunkStart) - chunkStart;
      const to = Math.min(base + end, chunkStart + data.length) - chunkStart;
      out.set(data.subarray(from, to), chunkStart + from - base - start);
    }
    return out;
  }

  /**
   * Returns the chunks `first..last` (decoding the missing ones), and starts decoding the missing
   * chunks up to `aheadLast` when the cache has room for them.
   */
  #schedule(
    placement: Placement & { kind: "chunked" },
    first: number,
    last: number,
    aheadLast: number,
  ): Promise<Uint8Array>[] {
    const { layout, key } = placement;
    const wanted: Promise<Uint8Array>[] = [];
    const perJob = Math.max(1, Math.floor(JOB_TARGET_BYTES / layout.chunkSize));
    let runStart = -1;
    const flush = (stop: number) => {
      if (runStart < 0) return;
      for (let from = runStart; from < stop; from += perJob) {
        wanted.push(...this.#decode(placement, from, Math.min(stop, from + perJob)));
      }
      runStart = -1;
    };
    for (let index = first; index <= last; index++) {
      const cached = this.#cache.get(`${key}:${index}`);
      if (!cached) {
        if (runStart < 0) runStart = index;
        continue;
      }
      flush(index);
      wanted.push(cached);
    }
    flush(last + 1);
    const lastChunk = layout.bounds.length - 2;
    const aheadStop = Math.min(aheadLast, lastChunk) + 1;
    for (let index = last + 1; index < aheadStop; index++) {
      if (this.#cache.has(`${key}:${index}`)) continue;
      // Decode ahead only in whole jobs (or up to the end), and only while the cache has room.
      const stop = Math.min(aheadStop, index + perJob);
      const whole = stop - index === perJob || stop === aheadStop;
      const room = this.#cache.inflightBytes + JOB_TARGET_BYTES <= this.#cache.maxBytes / 2;
      if (!whole || !room) break;
      let runEnd = index;
      while (runEnd < stop && !this.#cache.has(`${key}:${runEnd}`)) runEnd++;
      this.#decode(placement, index, runEnd);
      index = runEnd - 1;
    }
    return wanted;
  }

  /** Decodes chunks [from, to) in one job; returns one promise per chunk, each in the cache. */
  #decode(placement: Placement & { kind: "chunked" }, from: number, to: number) {
    const { layout, key } = placement;
    const fileStart = layout.bounds[from]!;
    const fileEnd = layout.bounds[to]!;
    const pool = this.#pool;
    const job = (async () => {
      const input = await layout.source.read(fileStart, fileEnd - fileStart);
      const table = new Uint32Array((to - from) * 3);
      for (let index = from; index < to; index++) {
        const k = (index - from) * 3;
        table[k] = layout.bounds[index]! - fileStart;
        table[k + 1] = layout.bounds[index + 1]! - layout.bounds[index]!;
        table[k + 2] = chunkUncompressedSize(layout, index);
      }
      if (layout.codec === "none") {
        for (let k = 0; k < table.length; k += 3) {
          if (table[k + 1] !== table[k + 2]) {
            throw new CodecError(`stored chunk ${from + k / 3} has the wrong size`);
          }
        }
        return input;
      }
      try {
        return await pool.decode({
          codec: layout.codec,
          chunkSize: layout.chunkSize,
          input,
          chunks: table,
        });
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        throw new CodecError(`chunk ${from}..${to - 1}: ${error.message}`, { cause: error });
      }
    })();
    this.#decodedChunks += to - from;
    const out: Promise<Uint8Array>[] = [];
    let pos = 0;
    for (let index = from; index < to; index++) {
      const size = chunkUncompressedSize(layout, index);
      const start = pos;
      const data = job.then((bytes) => bytes.subarray(start, start + size));
      out.push(this.#cache.add(`${key}:${index}`, data, size));
      pos += size;
    }
    return out;
  }

  async #placement(blob: BlobInfo): Promise<Placement> {
    const location = blob.location;
    if (location.kind === "solid") {
      const layout = await location.solid.layout();
      if (location.offset + blob.size > layout.uncompressedSize) {
        throw new WimFormatError("it runs past the end of its solid resource");
      }
      return {
        kind: "chunked",
        layout,
        base: location.offset,
        key: `s${this.#sourceId(location.solid.source)}:${location.solid.fileOffset}`,
      };
    }
    const resource = location.resource;
    if (!isCompressedResource(resource)) {
      if (resource.sizeInWim !== resource.originalSize || resource.originalSize !== blob.size) {
        throw new WimFormatError(
          `uncompressed resource size ${resource.sizeInWim} does not match ${blob.size}`,
        );
      }
      return { kind: "raw", source: location.source, fileOffset: resource.offset };
    }
    if (location.codec === "none") {
      throw new WimFormatError("it is compressed but the WIM has no compression type");
    }
    const key = `r${this.#sourceId(location.source)}:${resource.offset}`;
    let layout = this.#layouts.get(key);
    if (layout) {
      this.#layouts.delete(key);
    } else {
      layout = readChunkLayout(location.source, resource, location.codec, location.chunkSize);
      layout.catch(() => this.#layouts.delete(key));
    }
    this.#layouts.set(key, layout);
    if (this.#layouts.size > MAX_LAYOUTS) this.#layouts.delete(this.#layouts.keys().next().value!);
    const resolved = await layout;
    if (blob.size > resolved.uncompressedSize) {
      throw new WimFormatError("it is larger than its resource");
    }
    return { kind: "chunked", layout: resolved, base: 0, key };
  }

  #sourceId(source: ByteSource): number {
    let id = this.#sourceIds.get(source);
    if (id === undefined) {
      id = nextSourceId++;
      this.#sourceIds.set(source, id);
    }
    return id;
  }

  #where(): string {
    return this.#fileName === undefined ? "" : ` of "${this.#fileName}"`;
  }

  #context(): { file?: string } {
    return this.#fileName === undefined ? {} : { file: this.#fileName };
  }
}

let nextSourceId = 1;

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`invalid offset ${offset}`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid length ${length}`);
  }
}
