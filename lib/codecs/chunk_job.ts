/**
 * A batch of chunks to decode in one go: the unit the chunk pool hands to a worker.
 *
 * Batching matters: a worker round trip costs about 0.2 ms on this machine (stack.md §6), so jobs
 * carry about 1 MiB of output, not one 32 KiB chunk.
 */

import { CodecError } from "../errors.ts";
import { type ChunkCodec, createCompressor, type DecompressorCache } from "./registry.ts";
import type { ChunkCompressor } from "./codec.ts";
import { LzmsCompressor } from "./lzms_compress.ts";
import { abortMatchRing, encodeWithMatchRing } from "./lzms_match_ring.ts";

/**
 * The distinct buffers behind `views` that a message to or from a worker moves: non-empty
 * ArrayBuffers (shared memory is shared, not moved).
 *
 * @example
 * ```ts
 * import { transferList } from "./chunk_job.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(8);
 * const shared = new Uint8Array(new SharedArrayBuffer(8));
 * assert.deepEqual(transferList(bytes, bytes.subarray(4), shared), [bytes.buffer]);
 * ```
 */
export function transferList(...views: Uint8Array[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const { buffer } of views) {
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && !buffers.includes(buffer)) {
      buffers.push(buffer);
    }
  }
  return buffers;
}

/** Compressed chunks that decode into one contiguous output buffer. */
export interface DecodeJob {
  /** The codec of every chunk in the job; "none" when every chunk is stored raw. */
  readonly codec: ChunkCodec | "none";
  /** The resource's chunk size (LZX derives its window from it). */
  readonly chunkSize: number;
  /** Compressed bytes of the chunks. */
  readonly input: Uint8Array;
  /** Per chunk, three numbers: offset in `input`, stored size, uncompressed size. */
  readonly chunks: Uint32Array;
  /** A buffer to decode into (at least the total uncompressed size), reused across jobs. */
  readonly output?: Uint8Array;
}

/**
 * Decodes every chunk of `job` into `output` (or a new buffer); raw chunks (stored size equal to
 * the uncompressed size) are copied.
 *
 * @throws {CodecError} Naming the chunk of the job that failed.
 *
 * @example
 * ```ts
 * import { decodeJob } from "./chunk_job.ts";
 * import { DecompressorCache } from "./registry.ts";
 * import assert from "node:assert/strict";
 * const out = decodeJob({ codec: "xpress", chunkSize: 32768, input: Uint8Array.of(7),
 *   chunks: Uint32Array.of(0, 1, 1) }, new DecompressorCache());
 * assert.ok(out[0] === 7);
 * ```
 */
export function decodeJob(
  job: DecodeJob,
  cache: DecompressorCache,
  output?: Uint8Array,
): Uint8Array {
  const chunks = job.chunks;
  let total = 0;
  for (let i = 2; i < chunks.length; i += 3) total += chunks[i]!;
  const given = output ?? job.output;
  const out = given && given.length >= total ? given.subarray(0, total) : new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < chunks.length; i += 3) {
    const start = chunks[i]!;
    const stored = chunks[i + 1]!;
    const size = chunks[i + 2]!;
    const src = job.input.subarray(start, start + stored);
    const dst = out.subarray(pos, pos + size);
    if (stored === size) dst.set(src);
    else if (stored > size || stored === 0 || src.length !== stored || job.codec === "none") {
      throw new CodecError(
        `chunk ${i / 3} has stored size ${stored} for ${size} uncompressed bytes`,
      );
    } else {
      try {
        cache.get(job.codec as ChunkCodec, job.chunkSize).decompress(src, dst);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CodecError(
          `chunk ${i / 3} failed to decompress (${job.codec.toUpperCase()}): ${reason}`,
          {
            cause: error,
          },
        );
      }
    }
    pos += size;
  }
  return out;
}

/** Uncompressed chunks to compress in one go. */
export interface EncodeJob {
  /** The codec. */
  readonly codec: ChunkCodec;
  /** The chunk size the codec is set up for (LZX window). */
  readonly chunkSize: number;
  /** Compression level (wimlib scale; 0 = default). */
  readonly level: number;
  /** The chunks' bytes, back to back. */
  readonly input: Uint8Array;
  /** Uncompressed size of each chunk. */
  readonly sizes: Uint32Array;
  /** A buffer of at least `input.length` bytes to write into, reused across jobs. */
  readonly output?: Uint8Array;
  /**
   * LZMS, one chunk in shared memory: its matches come from another worker through this ring
   * (lib/codecs/lzms_match_ring.ts), which also x86-filters the chunk.
   */
  readonly matchRing?: SharedArrayBuffer;
}

/** What an encode job produced: each chunk compressed, or raw when it did not shrink. */
export interface EncodedChunks {
  /** Stored chunks, back to back. */
  readonly output: Uint8Array;
  /** Stored size of each chunk (equal to its uncompressed size when stored raw). */
  readonly storedSizes: Uint32Array;
}

/** Keeps one compressor per (codec, chunk size, level). */
export class CompressorCache {
  readonly #encoders = new Map<string, ChunkCompressor>();

  /** The cached compressor. */
  get(codec: ChunkCodec, chunkSize: number, level: number): ChunkCompressor {
    const key = `${codec}:${chunkSize}:${level}`;
    let encoder = this.#encoders.get(key);
    if (!encoder) {
      encoder = createCompressor(codec, chunkSize, level);
      this.#encoders.set(key, encoder);
    }
    return encoder;
  }
}

/**
 * Compresses every chunk of `job`; a chunk that does not get smaller is stored raw.
 *
 * @example
 * ```ts
 * import { CompressorCache, encodeJob } from "./chunk_job.ts";
 * import assert from "node:assert/strict";
 * const input = new Uint8Array(4096);
 * const out = encodeJob({ codec: "xpress", chunkSize: 4096, level: 0, input, sizes: Uint32Array.of(4096) },
 *   new CompressorCache());
 * assert.ok(out.storedSizes[0]! < 4096);
 * ```
 */
export function encodeJob(job: EncodeJob, cache: CompressorCache): EncodedChunks {
  if (job.matchRing) return encodeSharedJob(job, job.matchRing, cache);
  const encoder = cache.get(job.codec, job.chunkSize, job.level);
  const output = outputFor(job);
  const storedSizes = new Uint32Array(job.sizes.length);
  let inPos = 0;
  let outPos = 0;
  for (let i = 0; i < job.sizes.length; i++) {
    const size = job.sizes[i]!;
    const src = job.input.subarray(inPos, inPos + size);
    const written = size > 1
      ? encoder.compress(src, output.subarray(outPos, outPos + size - 1))
      : 0;
    if (written === 0) output.set(src, outPos);
    const stored = written || size;
    storedSizes[i] = stored;
    outPos += stored;
    inPos += size;
  }
  return { output: output.subarray(0, outPos), storedSizes };
}

function outputFor(job: EncodeJob): Uint8Array {
  return job.output && job.output.length >= job.input.length
    ? job.output
    : new Uint8Array(job.input.length);
}

/** One LZMS chunk whose matches come through `ring`; any failure ends the finder's side too. */
function encodeSharedJob(
  job: EncodeJob,
  ring: SharedArrayBuffer,
  cache: CompressorCache,
): EncodedChunks {
  try {
    const encoder = cache.get(job.codec, job.chunkSize, job.level);
    if (!(encoder instanceof LzmsCompressor) || job.sizes.length !== 1) {
      throw new CodecError("a shared match stream is for one LZMS chunk");
    }
    const stored = encodeWithMatchRing(encoder, job.input, outputFor(job), ring);
    return { output: stored, storedSizes: Uint32Array.of(stored.length) };
  } catch (error) {
    abortMatchRing(ring);
    throw error;
  }
}
