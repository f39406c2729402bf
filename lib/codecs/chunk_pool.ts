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
} from "./chunk_job.ts";
import { DecompressorCache } from "./registry.ts";
import type { WorkerRequest, WorkerResponse } from "./chunk_worker.ts";

/** Decodes and encodes jobs; dispose of it to end its workers. */
export interface ChunkPool extends Disposable {
  /** How many jobs run at once (1 for the inline pool). */
  readonly concurrency: number;
  /** Decodes `job`; the job's `input` may be transferred away (do not reuse it). */
  decode(job: DecodeJob): Promise<Uint8Array>;
  /** Encodes `job`; the job's `input` may be transferred away (do not reuse it). */
  encode(job: EncodeJob): Promise<EncodedChunks>;
}

/**
 * Codes on the calling thread; best for small data, where starting workers costs more.
 *
 * @example
 * ```ts
 * import { InlineChunkPool } from "./chunk_pool.ts";
 * using pool = new InlineChunkPool();
 * const out = await pool.decode({ codec: "lzx", chunkSize: 32768, input: Uint8Array.of(1, 2),
 *   chunks: Uint32Array.of(0, 2, 2) });
 * console.assert(out.length === 2);
 * ```
 */
export class InlineChunkPool implements ChunkPool {
  readonly concurrency = 1;
  readonly #decoders = new DecompressorCache();
  readonly #encoders = new CompressorCache();

  decode(job: DecodeJob): Promise<Uint8Array> {
    try {
      return Promise.resolve(decodeJob(job, this.#decoders));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  encode(job: EncodeJob): Promise<EncodedChunks> {
    try {
      return Promise.resolve(encodeJob(job, this.#encoders));
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
 * using pool = new WorkerChunkPool(2);
 * const out = await pool.decode({ codec: "xpress", chunkSize: 32768, input: Uint8Array.of(9),
 *   chunks: Uint32Array.of(0, 1, 1) });
 * console.assert(out[0] === 9);
 * ```
 */
export class WorkerChunkPool implements ChunkPool {
  readonly concurrency: number;
  readonly #workers: Worker[] = [];
  readonly #load: number[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  constructor(size: number = navigator.hardwareConcurrency || 2) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`invalid worker count ${size}`);
    this.concurrency = size;
  }

  async decode(job: DecodeJob): Promise<Uint8Array> {
    const response = await this.#post({ id: this.#nextId++, kind: "decode", job }, job.input);
    return (response as { output: Uint8Array }).output;
  }

  async encode(job: EncodeJob): Promise<EncodedChunks> {
    const response = await this.#post({ id: this.#nextId++, kind: "encode", job }, job.input);
    const { output, storedSizes } = response as { output: Uint8Array; storedSizes: Uint32Array };
    return { output, storedSizes };
  }

  #post(request: WorkerRequest, input: Uint8Array): Promise<WorkerResponse> {
    const index = this.#leastLoaded();
    const worker = this.#worker(index);
    this.#load[index]!++;
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject, worker: index });
      const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength;
      worker.postMessage(request, whole ? [input.buffer as ArrayBuffer] : []);
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
