/**
 * Writes blobs as resources, compressing chunks on a {@linkcode ChunkPool} in batches that span
 * blobs (many small files still make ~1 MiB jobs), and writing results in submission order, so
 * the file is identical whatever the worker count. Non-solid: one resource per blob, chunk table
 * first (reserved, filled in when the chunks are known), raw when compression does not pay
 * (wim-format.md §4.2). Solid: every blob in one resource (§5).
 */

import { createHash, type Hash } from "node:crypto";
import { WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { EncodedChunks } from "../codecs/chunk_job.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import {
  ResourceFlag,
  SOLID_FORMATS,
  SOLID_HEADER_SIZE,
  SOLID_RESOURCE_MAGIC_SIZE,
} from "../format/constants.ts";
import { viewOf, writeU64 } from "../format/bytes.ts";
import type { ResourceHeader } from "../format/resource_header.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import {
  PIPABLE_BLOB_HEADER_SIZE,
  PIPABLE_CHUNK_PREFIX_SIZE,
  serializePipableBlobHeader,
} from "../format/pipable_blob_header.ts";
import type { ContentSource } from "./new_image.ts";

/** Output bytes one compression job aims for. */
const JOB_TARGET_BYTES = 1 << 20;
/** Jobs in flight per worker. */
const JOBS_PER_WORKER = 3;

/** A blob to write. */
export interface BlobToWrite {
  /** Its content. */
  readonly source: ContentSource;
  /** Store without compression (a CompressionExclusionList match). */
  readonly raw?: boolean;
  /** SHA-1 (hex) known in advance; the pipable layout needs it before the data. */
  readonly hash?: string;
  /** Pipable layout: mark the blob header as metadata (0x02). */
  readonly metadata?: boolean;
}

/** A blob once written. */
export interface WrittenBlob {
  /** SHA-1 of the content. */
  readonly hash: Uint8Array;
  /** Lower-case hex of `hash`. */
  readonly hashHex: string;
  /** Size in bytes. */
  readonly size: number;
  /** Its resource (non-solid) or its place in the solid stream (flags SOLID, offset logical). */
  readonly resource: ResourceHeader;
}

/** How to write. */
export interface BlobWriterOptions {
  /** Where. */
  readonly sink: ByteSink;
  /** File offset to start at. */
  readonly offset: number;
  /** Codec, or "none". */
  readonly codec: ChunkCodec | "none";
  /** Uncompressed chunk size. */
  readonly chunkSize: number;
  /** Compression level (wimlib scale; 0 = default). */
  readonly level: number;
  /** Where chunks are compressed. */
  readonly pool: ChunkPool;
  /** Called with bytes of content consumed, after each job. */
  readonly onBytes?: (bytes: number) => void;
  /** Cancels the write. */
  readonly signal?: AbortSignal;
  /**
   * wimlib's pipable layout (wim-format.md §13): a blob header before each resource, a u32 size
   * before each chunk, the chunk table after the chunks, no uncompressed fallback; written
   * strictly in order, so the sink may be a pipe. Needs every blob's hash in advance.
   */
  readonly pipable?: boolean;
}

interface ChunkRef {
  blob: number;
  size: number;
}

interface PendingJob {
  chunks: ChunkRef[];
  result: Promise<EncodedChunks>;
}

/** Hashes a source completely (for single instancing before writing). */
export async function hashSource(source: ContentSource): Promise<string> {
  const hash = createHash("sha1");
  let size = 0;
  for await (const piece of source.read()) {
    hash.update(piece);
    size += piece.length;
  }
  checkSize(source, size);
  return hash.digest("hex");
}

function checkSize(source: ContentSource, size: number): void {
  if (size !== source.size) {
    throw new WimkitError(
      `Cannot capture "${source.label}": it changed size while being read (${source.size} → ${size})`,
      "io",
      {
        file: source.label,
      },
    );
  }
}

/** Collects chunks into jobs and keeps a bounded number in flight, oldest first. */
class ChunkBatcher {
  readonly #options: BlobWriterOptions;
  readonly #consume: (job: PendingJob) => Promise<void>;
  readonly #queue: PendingJob[] = [];
  #input: Uint8Array;
  #used = 0;
  #chunks: ChunkRef[] = [];
  #chunkStart = 0;
  #raw = false;

  constructor(options: BlobWriterOptions, consume: (job: PendingJob) => Promise<void>) {
    if (!(options.chunkSize > 0)) throw new RangeError(`invalid chunk size ${options.chunkSize}`);
    this.#options = options;
    this.#consume = consume;
    this.#input = options.pool.buffer(this.#capacity());
  }

  /** Bytes one job's input buffer holds: the job target, or one chunk when chunks are larger. */
  #capacity(): number {
    return Math.max(JOB_TARGET_BYTES, this.#options.chunkSize);
  }

  /**
   * Appends bytes of blob `blob`; a chunk closes when it reaches the chunk size. Raw bytes (stored
   * uncompressed) never share a job with bytes to compress.
   */
  async add(blob: number, bytes: Uint8Array, raw = false): Promise<void> {
    if (raw !== this.#raw) {
      await this.submit();
      this.#raw = raw;
    }
    let pos = 0;
    while (pos < bytes.length) {
      const room = this.#options.chunkSize - (this.#used - this.#chunkStart);
      const take = Math.min(room, bytes.length - pos);
      this.#input.set(bytes.subarray(pos, pos + take), this.#used);
      this.#used += take;
      pos += take;
      if (this.#used - this.#chunkStart === this.#options.chunkSize) await this.endChunk(blob);
    }
  }

  /** Closes the current chunk (if it holds anything) as part of `blob`. */
  async endChunk(blob: number): Promise<void> {
    const size = this.#used - this.#chunkStart;
    if (size === 0) return;
    this.#chunks.push({ blob, size });
    this.#chunkStart = this.#used;
    if (this.#input.length - this.#used < this.#options.chunkSize) await this.submit();
  }

  /** Sends the collected chunks as one job. */
  async submit(): Promise<void> {
    if (this.#chunks.length === 0) return;
    const sizes = Uint32Array.from(this.#chunks, (c) => c.size);
    // The collecting buffer itself becomes the job's input (moved to a worker, recycled after).
    const input = this.#input.subarray(0, this.#used);
    this.#input = this.#options.pool.buffer(this.#capacity());
    const { codec, chunkSize, level, pool } = this.#options;
    const result = codec === "none" || this.#raw
      ? Promise.resolve({ output: input, storedSizes: sizes })
      : pool.encode({ codec, chunkSize, level, input, sizes });
    this.#queue.push({ chunks: this.#chunks, result });
    this.#chunks = [];
    this.#used = 0;
    this.#chunkStart = 0;
    while (this.#queue.length >= this.#options.pool.concurrency * JOBS_PER_WORKER) {
      await this.#consume(this.#queue.shift()!);
    }
  }

  /** Submits what is left and consumes every job. */
  async finish(): Promise<void> {
    await this.submit();
    while (this.#queue.length > 0) await this.#consume(this.#queue.shift()!);
  }

  /** Lets pending jobs settle quietly after a failure. */
  abandon(): void {
    for (const job of this.#queue) job.result.catch(() => {});
  }
}

interface BlobState {
  source: ContentSource;
  expectedHash: string | undefined;
  metadata: boolean;
  raw: boolean;
  chunkCount: number;
  tableBytes: number;
  start: number;
  storedOffsets: number[];
  written: number;
  hash: string | null;
}

/**
 * Writes each blob as its own resource, in order, starting at `options.offset`.
 *
 * @returns the written blobs (in input order) and the file offset after the last resource.
 */
export async function writeBlobs(
  blobs: readonly BlobToWrite[],
  options: BlobWriterOptions,
): Promise<{ written: WrittenBlob[]; end: number }> {
  const { sink, chunkSize } = options;
  let pos = options.offset;
  const states: BlobState[] = blobs.map((blob) => {
    const raw = options.codec === "none" || blob.raw === true;
    const chunkCount = Math.ceil(blob.source.size / chunkSize);
    const entrySize = blob.source.size > 0xffffffff ? 8 : 4;
    const expectedHash = blob.hash ?? blob.source.knownHash;
    if (options.pipable && expectedHash === undefined) {
      throw new RangeError(`pipable layout: the hash of "${blob.source.label}" must be known`);
    }
    return {
      source: blob.source,
      expectedHash,
      metadata: blob.metadata === true,
      raw,
      chunkCount,
      tableBytes: raw ? 0 : (chunkCount - 1) * entrySize,
      start: -1,
      storedOffsets: [],
      written: 0,
      hash: null,
    };
  });
  const written: WrittenBlob[] = new Array(blobs.length);
  const finalize = async (index: number) => {
    const state = states[index]!;
    const size = state.source.size;
    const total = state.tableBytes + state.written;
    let resource: ResourceHeader;
    if (options.pipable) {
      resource = finishPipable(state, sink, pos);
      pos = resource.offset + resource.sizeInWim;
    } else if (state.raw || total >= size) {
      if (!state.raw && state.chunkCount > 1) {
        // Compression did not pay: store the blob uncompressed instead (§4.2).
        await rewriteRaw(state, sink);
      }
      resource = { sizeInWim: size, flags: 0, offset: state.start, originalSize: size };
      pos = state.start + size;
    } else {
      const table = new Uint8Array(state.tableBytes);
      const view = viewOf(table);
      const entrySize = state.tableBytes / Math.max(1, state.chunkCount - 1);
      for (let i = 1; i < state.chunkCount; i++) {
        if (entrySize === 8) writeU64(view, (i - 1) * 8, state.storedOffsets[i]!);
        else view.setUint32((i - 1) * 4, state.storedOffsets[i]!, true);
      }
      sink.write(state.start, table);
      resource = {
        sizeInWim: total,
        flags: ResourceFlag.COMPRESSED,
        offset: state.start,
        originalSize: size,
      };
    }
    const hash = Uint8Array.fromHex(state.hash!);
    written[index] = { hash, hashHex: state.hash!, size, resource };
  };
  const consume = async (job: PendingJob) => {
    const { output, storedSizes } = await job.result;
    let outPos = 0;
    let consumed = 0;
    for (let i = 0; i < job.chunks.length; i++) {
      const chunk = job.chunks[i]!;
      const state = states[chunk.blob]!;
      const stored = storedSizes[i]!;
      if (state.start < 0 && options.pipable) {
        pos = startPipable(state, sink, pos);
      } else if (state.start < 0) {
        state.start = pos;
        pos += state.tableBytes;
      }
      state.storedOffsets.push(state.written);
      if (options.pipable && !state.raw) {
        sink.write(pos, u32(stored));
        pos += PIPABLE_CHUNK_PREFIX_SIZE;
      }
      sink.write(pos, output.subarray(outPos, outPos + stored));
      pos += stored;
      outPos += stored;
      state.written += stored;
      consumed += chunk.size;
      if (state.storedOffsets.length === state.chunkCount) await finalize(chunk.blob);
    }
    options.pool.release(output);
    options.onBytes?.(consumed);
  };
  const batcher = new ChunkBatcher(options, consume);
  try {
    for (let index = 0; index < blobs.length; index++) {
      options.signal?.throwIfAborted();
      const state = states[index]!;
      const hash = createHash("sha1");
      let size = 0;
      for await (const piece of state.source.read()) {
        hash.update(piece);
        size += piece.length;
        await batcher.add(index, piece, state.raw);
      }
      checkSize(state.source, size);
      state.hash = checkKnownHash(state.source, hash, state.expectedHash);
      await batcher.endChunk(index);
    }
    await batcher.finish();
  } catch (error) {
    batcher.abandon();
    throw error;
  }
  return { written, end: pos };
}

function checkKnownHash(
  source: ContentSource,
  hash: Hash,
  expected: string | undefined = source.knownHash,
): string {
  const digest = hash.digest("hex");
  if (expected !== undefined && expected !== digest) {
    throw new WimkitError(
      `Cannot capture "${source.label}": it changed while being captured`,
      "io",
      {
        file: source.label,
      },
    );
  }
  return digest;
}

/** Pipable layout: writes the blob header; returns where the resource itself starts. */
function startPipable(state: BlobState, sink: ByteSink, pos: number): number {
  const flags = (state.raw ? 0 : ResourceFlag.COMPRESSED) |
    (state.metadata ? ResourceFlag.METADATA : 0);
  const hash = Uint8Array.fromHex(state.expectedHash!);
  sink.write(pos, serializePipableBlobHeader({ size: state.source.size, hash, flags }));
  state.start = pos + PIPABLE_BLOB_HEADER_SIZE;
  return state.start;
}

/** Pipable layout: writes the chunk table after the chunks; returns the resource header. */
function finishPipable(state: BlobState, sink: ByteSink, pos: number): ResourceHeader {
  const size = state.source.size;
  if (state.raw) return { sizeInWim: size, flags: 0, offset: state.start, originalSize: size };
  const entrySize = state.chunkCount > 1 ? state.tableBytes / (state.chunkCount - 1) : 4;
  const table = new Uint8Array(state.tableBytes);
  const view = viewOf(table);
  for (let i = 1; i < state.chunkCount; i++) {
    if (entrySize === 8) writeU64(view, (i - 1) * 8, state.storedOffsets[i]!);
    else view.setUint32((i - 1) * 4, state.storedOffsets[i]!, true);
  }
  sink.write(pos, table);
  return {
    sizeInWim: pos + table.length - state.start,
    flags: ResourceFlag.COMPRESSED,
    offset: state.start,
    originalSize: size,
  };
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  viewOf(out).setUint32(0, value, true);
  return out;
}

async function rewriteRaw(state: BlobState, sink: ByteSink): Promise<void> {
  const hash = createHash("sha1");
  let pos = state.start;
  for await (const piece of state.source.read()) {
    hash.update(piece);
    sink.write(pos, piece);
    pos += piece.length;
  }
  if (hash.digest("hex") !== state.hash) {
    throw new WimkitError(
      `Cannot capture "${state.source.label}": it changed while being captured`,
      "io",
      {
        file: state.source.label,
      },
    );
  }
}

/**
 * Writes every blob into one solid resource at `options.offset` (wim-format.md §5).
 *
 * @returns the resource's blob-table entry header, the blobs (with logical offsets) and the end.
 */
export async function writeSolidResource(
  blobs: readonly BlobToWrite[],
  options: BlobWriterOptions,
): Promise<{ resource: ResourceHeader; written: WrittenBlob[]; end: number }> {
  const { sink, chunkSize } = options;
  let total = 0;
  for (const blob of blobs) total += blob.source.size;
  const chunkCount = Math.ceil(total / chunkSize);
  const headerBytes = SOLID_HEADER_SIZE + 4 * chunkCount;
  const start = options.offset;
  let pos = start + headerBytes;
  const storedSizes: number[] = [];
  const consume = async (job: PendingJob) => {
    const result = await job.result;
    let outPos = 0;
    let consumed = 0;
    for (let i = 0; i < job.chunks.length; i++) {
      const stored = result.storedSizes[i]!;
      sink.write(pos, result.output.subarray(outPos, outPos + stored));
      storedSizes.push(stored);
      pos += stored;
      outPos += stored;
      consumed += job.chunks[i]!.size;
    }
    options.pool.release(result.output);
    options.onBytes?.(consumed);
  };
  const batcher = new ChunkBatcher(options, consume);
  const written: WrittenBlob[] = [];
  let logical = 0;
  try {
    for (const blob of blobs) {
      options.signal?.throwIfAborted();
      const hash = createHash("sha1");
      let size = 0;
      for await (const piece of blob.source.read()) {
        hash.update(piece);
        size += piece.length;
        await batcher.add(0, piece);
      }
      checkSize(blob.source, size);
      const hashHex = checkKnownHash(blob.source, hash);
      written.push({
        hash: Uint8Array.fromHex(hashHex),
        hashHex,
        size,
        resource: { sizeInWim: size, flags: ResourceFlag.SOLID, offset: logical, originalSize: 0 },
      });
      logical += size;
    }
    await batcher.endChunk(0);
    await batcher.finish();
  } catch (error) {
    batcher.abandon();
    throw error;
  }
  const header = new Uint8Array(headerBytes);
  const view = viewOf(header);
  writeU64(view, 0, total);
  view.setUint32(8, chunkSize, true);
  view.setUint32(12, SOLID_FORMATS.indexOf(options.codec), true);
  storedSizes.forEach((size, i) => view.setUint32(SOLID_HEADER_SIZE + i * 4, size, true));
  sink.write(start, header);
  return {
    resource: {
      sizeInWim: pos - start,
      flags: ResourceFlag.SOLID,
      offset: start,
      originalSize: SOLID_RESOURCE_MAGIC_SIZE,
    },
    written,
    end: pos,
  };
}
