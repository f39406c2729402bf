/**
 * Pools that decode and encode batches of chunks: inline on the calling thread, or on module
 * workers. Both return each job's result in a promise, so callers keep results in submission
 * order by awaiting in that order; the bytes are identical whatever the worker count, because
 * every chunk is coded on its own.
 */

import { CodecError } from "../errors.ts";
import {
  CompressorCache,
  type DecodeJob,
  decodeJob,
  type EncodedChunks,
  type EncodeJob,
  encodeJob,
  transferList,
} from "./chunk_job.ts";
import { DecompressorCache } from "./registry.ts";
import type { WorkerRequest, WorkerResponse } from "./chunk_worker.ts";
import { createMatchRing, resetMatchRing } from "./lzms_match_ring.ts";

/** Decodes and encodes jobs; dispose of it to end its workers. */
export interface ChunkPool extends Disposable {
  /** How many jobs run at once (1 for the inline pool). */
  readonly concurrency: number;
  /** Decodes `job`; the job's `input` may be transferred away (do not reuse it). */
  decode(job: DecodeJob): Promise<Uint8Array>;
  /**
   * A buffer of at least `size` bytes, recycled from released ones when possible. `forEncode`: it
   * will be an encode job's input, so it is shared memory when the pool codes a chunk that large
   * on two workers at once (see WorkerChunkPool.encode).
   */
  buffer(size: number, forEncode?: boolean): Uint8Array;
  /** Hands back a buffer (an input, or an output once consumed) for reuse. */
  release(bytes: Uint8Array): void;
  /** Encodes `job`; the job's `input` may be transferred away (do not reuse it); release the
   * result's `output` once written. */
  encode(job: EncodeJob): Promise<EncodedChunks>;
}

/** Buffers kept for reuse; recycling keeps garbage (and so peak memory) low in every isolate. */
const MAX_RECYCLED_BUFFERS = 16;

/**
 * Smallest single LZMS chunk that two workers share (one finds matches, one encodes): a solid
 * chunk is 64 MiB, so coding one at a time on both cores keeps one chunk in memory, not two.
 */
const SHARED_CHUNK_MIN = 4 << 20;

/** A small free list of ArrayBuffers and SharedArrayBuffers, reused when large enough. */
class BufferRecycler {
  readonly #free: (ArrayBuffer | SharedArrayBuffer)[] = [];

  take(size: number, shared = false): Uint8Array {
    const index = this.#free.findIndex((buffer) =>
      buffer.byteLength >= size && buffer.byteLength <= size * 2 &&
      (buffer instanceof SharedArrayBuffer) === shared
    );
    if (index >= 0) return new Uint8Array(this.#free.splice(index, 1)[0]!, 0, size);
    return shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
  }

  give(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (buffer.byteLength === 0) return;
    if (this.#free.length >= MAX_RECYCLED_BUFFERS || this.#free.includes(buffer)) return;
    this.#free.push(buffer);
  }
}

/** Whether a job is one LZMS chunk in shared memory, for two workers at once. */
function isSharedLzmsChunk(job: EncodeJob): boolean {
  return job.codec === "lzms" && job.sizes.length === 1 &&
    job.input.buffer instanceof SharedArrayBuffer;
}

/**
 * Codes on the calling thread; best for small data, where starting workers costs more.
 *
 * @example
 * ```ts
 * import { InlineChunkPool } from "./chunk_pool.ts";
 * import assert from "node:assert/strict";
 * using pool = new InlineChunkPool();
 * const out = await pool.decode({ codec: "lzx", chunkSize: 32768, input: Uint8Array.of(1, 2),
 *   chunks: Uint32Array.of(0, 2, 2) });
 * assert.ok(out.length === 2);
 * ```
 */
export class InlineChunkPool implements ChunkPool {
  readonly concurrency = 1;
  readonly #decoders = new DecompressorCache();
  readonly #encoders = new CompressorCache();
  readonly #buffers = new BufferRecycler();

  decode(job: DecodeJob): Promise<Uint8Array> {
    try {
      const output = decodeJob(
        job,
        this.#decoders,
        job.output ?? this.#buffers.take(totalSize(job)),
      );
      this.#buffers.give(job.input);
      return Promise.resolve(output);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  buffer(size: number): Uint8Array {
    return this.#buffers.take(size);
  }

  release(bytes: Uint8Array): void {
    this.#buffers.give(bytes);
  }

  encode(job: EncodeJob): Promise<EncodedChunks> {
    try {
      const result = encodeJob({
        ...job,
        output: job.output ?? this.#buffers.take(job.input.length),
      }, this.#encoders);
      this.#buffers.give(job.input);
      return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  [Symbol.dispose](): void {}
}

interface Pending {
  resolve: (response: WorkerResponse) => void;
  reject: (error: Error) => void;
  worker: number;
}

/**
 * Codes on `size` module workers (default: one per core), started lazily, ended on dispose.
 *
 * @example
 * ```ts
 * import { WorkerChunkPool } from "./chunk_pool.ts";
 * import assert from "node:assert/strict";
 * using pool = new WorkerChunkPool(2);
 * const out = await pool.decode({ codec: "xpress", chunkSize: 32768, input: Uint8Array.of(9),
 *   chunks: Uint32Array.of(0, 1, 1) });
 * assert.ok(out[0] === 9);
 * ```
 */
export class WorkerChunkPool implements ChunkPool {
  readonly concurrency: number;
  readonly #workers: Worker[] = [];
  readonly #load: number[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  /** Match rings of finished shared jobs, for the next one. */
  readonly #rings: SharedArrayBuffer[] = [];

  constructor(size: number = navigator.hardwareConcurrency || 2) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`invalid worker count ${size}`);
    this.concurrency = size;
  }

  readonly #buffers = new BufferRecycler();

  /**
   * Starts every worker now instead of at the first job, so that loading their modules overlaps
   * with the caller's own preparation (e.g. scanning a tree before compressing it).
   *
   * @example
   * ```ts
   * import { WorkerChunkPool } from "./chunk_pool.ts";
   * import assert from "node:assert/strict";
   * using pool = new WorkerChunkPool(2).start();
   * assert.ok(pool.concurrency === 2);
   * ```
   */
  start(): this {
    for (let index = this.#workers.length; index < this.concurrency; index++) this.#worker(index);
    return this;
  }

  async decode(job: DecodeJob): Promise<Uint8Array> {
    const output = job.output ?? this.#buffers.take(totalSize(job));
    const request: WorkerRequest = { id: this.#nextId++, kind: "decode", job: { ...job, output } };
    const response = await this.#post(request, job.input, output);
    const { output: decoded, input } = response as { output: Uint8Array; input?: Uint8Array };
    if (input) this.#buffers.give(input);
    return decoded;
  }

  buffer(size: number, forEncode = false): Uint8Array {
    return this.#buffers.take(
      size,
      forEncode && this.concurrency >= 2 && size >= SHARED_CHUNK_MIN,
    );
  }

  release(bytes: Uint8Array): void {
    this.#buffers.give(bytes);
  }

  /**
   * Encodes `job` on one worker; a single LZMS chunk in shared memory (see buffer) on two at once,
   * one finding matches for the other (lib/codecs/lzms_match_ring.ts), with the same output.
   */
  async encode(job: EncodeJob): Promise<EncodedChunks> {
    if (this.concurrency >= 2 && isSharedLzmsChunk(job)) return await this.#encodeShared(job);
    const output = job.output ?? this.#buffers.take(job.input.length);
    const request: WorkerRequest = { id: this.#nextId++, kind: "encode", job: { ...job, output } };
    const response = await this.#post(request, job.input, output);
    const { output: encoded, input, storedSizes } = response as {
      output: Uint8Array;
      input?: Uint8Array;
      storedSizes: Uint32Array;
    };
    if (input) this.#buffers.give(input);
    return { output: encoded, storedSizes };
  }

  async #encodeShared(job: EncodeJob): Promise<EncodedChunks> {
    const matchRing = this.#rings.pop() ?? createMatchRing();
    resetMatchRing(matchRing);
    const output = job.output ?? this.#buffers.take(job.input.length);
    this.start();
    const [finder, encoder] = this.#load.map((load, index) => ({ load, index }))
      .sort((a, b) => a.load - b.load || a.index - b.index).map(({ index }) => index);
    const settled = await Promise.allSettled([
      this.#postTo(finder!, {
        id: this.#nextId++,
        kind: "find-matches",
        job: { input: job.input, matchRing, level: job.level },
      }, []),
      this.#postTo(encoder!, {
        id: this.#nextId++,
        kind: "encode",
        job: { ...job, output, matchRing },
      }, transferList(output)),
    ]);
    // Both halves are over, so the ring and the chunk are free again.
    this.#rings.push(matchRing);
    this.#buffers.give(job.input);
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const response = (settled[1] as PromiseFulfilledResult<WorkerResponse>).value as {
      output: Uint8Array;
      storedSizes: Uint32Array;
    };
    return { output: response.output, storedSizes: response.storedSizes };
  }

  #post(request: WorkerRequest, input: Uint8Array, output?: Uint8Array): Promise<WorkerResponse> {
    const views = output ? [input, output] : [input];
    return this.#postTo(this.#leastLoaded(), request, transferList(...views));
  }

  #postTo(index: number, request: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerResponse> {
    const worker = this.#worker(index);
    this.#load[index]!++;
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject, worker: index });
      worker.postMessage(request, transfer);
    });
  }

  #leastLoaded(): number {
    const idle = this.#load.findIndex((load) => load === 0);
    if (idle >= 0) return idle;
    if (this.#workers.length < this.concurrency) return this.#workers.length;
    let best = 0;
    for (let i = 1; i < this.#load.length; i++) if (this.#load[i]! < this.#load[best]!) best = i;
    return best;
  }

  #worker(index: number): Worker {
    let worker = this.#workers[index];
    if (worker) return worker;
    worker = new Worker(new URL("./chunk_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.#settle(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#failWorker(index, new CodecError(`codec worker failed: ${event.message}`));
    };
    this.#workers[index] = worker;
    this.#load[index] = 0;
    return worker;
  }

  #settle(response: WorkerResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    this.#load[pending.worker]!--;
    if ("error" in response) pending.reject(new CodecError(response.error));
    else pending.resolve(response);
  }

  #failWorker(index: number, error: Error): void {
    for (const [id, pending] of this.#pending) {
      if (pending.worker !== index) continue;
      this.#pending.delete(id);
      this.#load[index]!--;
      pending.reject(error);
    }
  }

  [Symbol.dispose](): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
    for (const pending of this.#pending.values()) {
      pending.reject(new CodecError("codec pool was disposed"));
    }
    this.#pending.clear();
  }
}

/** Total uncompressed size of a decode job. */
function totalSize(job: DecodeJob): number {
  let total = 0;
  for (let i = 2; i < job.chunks.length; i += 3) total += job.chunks[i]!;
  return total;
}
