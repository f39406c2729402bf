/**
 * Batches chunks into compression jobs for a {@linkcode ChunkPool}: chunks of consecutive blobs
 * share a job (many small files still make ~1 MiB jobs), a bounded number of jobs and of bytes is
 * in flight (one 64 MiB solid chunk at a time), and jobs are consumed oldest first, so the output
 * is in submission order whatever the worker count.
 */

import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { EncodedChunks } from "../codecs/chunk_job.ts";
import type { ChunkCodec } from "../codecs/registry.ts";

/** Output bytes one compression job aims for. */
const JOB_TARGET_BYTES = 1 << 20;
/** Jobs in flight per worker. */
const JOBS_PER_WORKER = 3;
/**
 * Input bytes in flight beyond which the batcher waits for the oldest job, so that 64 MiB solid
 * chunks are coded one at a time (by two workers together, see ChunkPool.encode) and memory
 * holds one, not one per worker and queue place.
 */
const MAX_IN_FLIGHT_BYTES = 16 << 20;

/** How chunks are compressed. */
export interface ChunkBatchOptions {
  /** Codec, or "none". */
  readonly codec: ChunkCodec | "none";
  /** Uncompressed chunk size. */
  readonly chunkSize: number;
  /** Compression level (wimlib scale; 0 = default). */
  readonly level: number;
  /** Where chunks are compressed. */
  readonly pool: ChunkPool;
}

/** A chunk of a job: the blob (an index of the caller's) and its uncompressed size. */
export interface ChunkRef {
  blob: number;
  size: number;
}

/** A submitted job: its chunks and its result to come. */
export interface PendingJob {
  chunks: ChunkRef[];
  result: Promise<EncodedChunks>;
  /** Uncompressed bytes of the job. */
  bytes: number;
}

/**
 * Collects chunks into jobs and keeps a bounded number in flight, oldest first.
 *
 * @example
 * ```ts ignore
 * const batcher = new ChunkBatcher(options, async (job) => write(await job.result));
 * await batcher.add(0, bytes);
 * await batcher.endChunk(0);
 * await batcher.finish();
 * ```
 */
export class ChunkBatcher {
  readonly #options: ChunkBatchOptions;
  readonly #consume: (job: PendingJob) => Promise<void>;
  readonly #queue: PendingJob[] = [];
  #input: Uint8Array;
  #used = 0;
  #chunks: ChunkRef[] = [];
  #chunkStart = 0;
  #raw = false;
  #inFlightBytes = 0;

  constructor(options: ChunkBatchOptions, consume: (job: PendingJob) => Promise<void>) {
    if (!(options.chunkSize > 0)) throw new RangeError(`invalid chunk size ${options.chunkSize}`);
    this.#options = options;
    this.#consume = consume;
    this.#input = options.pool.buffer(this.#capacity(), true);
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
    const { codec, chunkSize, level, pool } = this.#options;
    const result = codec === "none" || this.#raw
      ? Promise.resolve({ output: input, storedSizes: sizes })
      : pool.encode({ codec, chunkSize, level, input, sizes });
    this.#queue.push({ chunks: this.#chunks, result, bytes: input.length });
    this.#inFlightBytes += input.length;
    this.#chunks = [];
    this.#used = 0;
    this.#chunkStart = 0;
    while (
      this.#queue.length >= pool.concurrency * JOBS_PER_WORKER ||
      (this.#queue.length > 0 && this.#inFlightBytes >= MAX_IN_FLIGHT_BYTES)
    ) {
      await this.#consumeOldest();
    }
    // Taken after consuming, so a large chunk's buffer is the one just given back.
    this.#input = pool.buffer(this.#capacity(), true);
  }

  /** Submits what is left and consumes every job. */
  async finish(): Promise<void> {
    await this.submit();
    while (this.#queue.length > 0) await this.#consumeOldest();
  }

  async #consumeOldest(): Promise<void> {
    const job = this.#queue.shift()!;
    this.#inFlightBytes -= job.bytes;
    await this.#consume(job);
  }

  /** Lets pending jobs settle quietly after a failure. */
  abandon(): void {
    for (const job of this.#queue) job.result.catch(() => {});
  }
}
