/**
 * Decoders for batches of chunks: inline on the calling thread, or on a pool of module workers.
 * Both return each job's output in a promise, so callers keep output in submission order simply
 * by awaiting the promises in that order; the bytes are identical whatever the worker count.
 */

import { CodecError } from "../errors.ts";
import { type DecodeJob, decodeJob } from "./chunk_job.ts";
import { DecompressorCache } from "./registry.ts";
import type { WorkerRequest, WorkerResponse } from "./chunk_worker.ts";

/** Decodes jobs; dispose of it to end its workers. */
export interface ChunkDecoder extends Disposable {
  /** How many jobs run at once (1 for the inline decoder). */
  readonly concurrency: number;
  /** Decodes `job`; the job's `input` may be transferred away (do not reuse it). */
  decode(job: DecodeJob): Promise<Uint8Array>;
}

/**
 * Decodes on the calling thread; best for small resources, where a worker start costs more.
 *
 * @example
 * ```ts
 * import { InlineChunkDecoder } from "./chunk_pool.ts";
 * using decoder = new InlineChunkDecoder();
 * const out = await decoder.decode({ codec: "lzx", chunkSize: 32768, input: Uint8Array.of(1, 2),
 *   chunks: Uint32Array.of(0, 2, 2) });
 * console.assert(out.length === 2);
 * ```
 */
export class InlineChunkDecoder implements ChunkDecoder {
  readonly concurrency = 1;
  readonly #cache = new DecompressorCache();

  decode(job: DecodeJob): Promise<Uint8Array> {
    try {
      return Promise.resolve(decodeJob(job, this.#cache));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  [Symbol.dispose](): void {}
}

/**
 * Decodes on `size` module workers, started lazily and ended on dispose.
 *
 * @example
 * ```ts
 * import { WorkerChunkDecoder } from "./chunk_pool.ts";
 * using decoder = new WorkerChunkDecoder(2);
 * const out = await decoder.decode({ codec: "xpress", chunkSize: 32768, input: Uint8Array.of(9),
 *   chunks: Uint32Array.of(0, 1, 1) });
 * console.assert(out[0] === 9);
 * ```
 */
export class WorkerChunkDecoder implements ChunkDecoder {
  readonly concurrency: number;
  readonly #workers: Worker[] = [];
  readonly #load: number[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (out: Uint8Array) => void; reject: (error: Error) => void; worker: number }
  >();
  #nextId = 0;

  constructor(size: number = navigator.hardwareConcurrency || 2) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`invalid worker count ${size}`);
    this.concurrency = size;
  }

  decode(job: DecodeJob): Promise<Uint8Array> {
    const index = this.#leastLoaded();
    const worker = this.#worker(index);
    const id = this.#nextId++;
    this.#load[index]!++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker: index });
      const request: WorkerRequest = { id, job };
      const input = job.input;
      const transferable = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength;
      worker.postMessage(request, transferable ? [input.buffer as ArrayBuffer] : []);
    });
  }

  #leastLoaded(): number {
    if (this.#workers.length < this.concurrency) {
      const idle = this.#load.findIndex((load) => load === 0);
      if (idle >= 0) return idle;
      return this.#workers.length;
    }
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
      this.#failWorker(index, new CodecError(`decoder worker failed: ${event.message}`));
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
    else pending.resolve(response.output);
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
      pending.reject(new CodecError("decoder pool was disposed"));
    }
    this.#pending.clear();
  }
}
