/**
 * Writes blobs as resources, compressing chunks on a {@linkcode ChunkPool} in batches that span
 * blobs (many small files still make ~1 MiB jobs), and writing results in submission order, so
 * the file is identical whatever the worker count. Non-solid: one resource per blob, chunk table
 * first (reserved, filled in when the chunks are known), raw when compression does not pay
 * (wim-format.md §4.2). Batching is lib/wim/chunk_batcher.ts; the solid layout, every blob in one
 * resource (§5), is lib/wim/solid_writer.ts.
 */

import { createHash, type Hash } from "node:crypto";
import { WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import { ResourceFlag } from "../format/constants.ts";
import { viewOf, writeU64 } from "../format/bytes.ts";
import type { ResourceHeader } from "../format/resource_header.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import {
  PIPABLE_BLOB_HEADER_SIZE,
  PIPABLE_CHUNK_PREFIX_SIZE,
  serializePipableBlobHeader,
} from "../format/pipable_blob_header.ts";
import { ChunkBatcher, type PendingJob } from "./chunk_batcher.ts";
import type { ContentSource } from "./new_image.ts";

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

/**
 * Throws unless `size`, the bytes read from `source`, is the size it announced.
 *
 * @example
 * ```ts ignore
 * checkSize(source, bytesRead);
 * ```
 */
export function checkSize(source: ContentSource, size: number): void {
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

/**
 * The hex digest of `hash`; throws if it differs from the hash the source was known by.
 *
 * @example
 * ```ts ignore
 * const hashHex = checkKnownHash(source, hash);
 * ```
 */
export function checkKnownHash(
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
