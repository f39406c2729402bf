/**
 * `CompressionStream`- and `DecompressionStream`-shaped classes for XPRESS, LZX and LZMS over the
 * framing of {@link ./framing.ts}: `new LzxCompressionStream()` has `readable` and `writable` and
 * works with `pipeThrough` like the built-in classes. Compression runs on a {@linkcode ChunkPool}
 * (inline unless one is given) with several batches in flight, output in order, identical for any
 * pool. Corrupt input errors the readable side with a {@linkcode CodecError} (the built-in
 * reports a `TypeError`).
 */

import { CodecError } from "../errors.ts";
import { FRAME_HEADER_SIZE, STREAM_HEADER_SIZE } from "./framing.ts";
import { type ChunkCodec, createDecompressor } from "./registry.ts";
import type { ChunkDecompressor } from "./codec.ts";
import { type ChunkPool, InlineChunkPool } from "./chunk_pool.ts";
import type { EncodedChunks } from "./chunk_job.ts";

/** Largest chunk size a stream header may announce. */
const MAX_STREAM_CHUNK_SIZE = 1 << 30;

/** Collects incoming bytes and hands out exact-length pieces. */
class ByteQueue {
  #parts: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  /** Removes and returns the first `n` bytes (caller checks `length` first). */
  take(n: number): Uint8Array {
    const first = this.#parts[0];
    if (first && first.length >= n) {
      this.#length -= n;
      if (first.length === n) this.#parts.shift();
      else this.#parts[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let pos = 0;
    while (pos < n) {
      const part = this.#parts[0]!;
      const used = Math.min(part.length, n - pos);
      out.set(part.subarray(0, used), pos);
      pos += used;
      if (used === part.length) this.#parts.shift();
      else this.#parts[0] = part.subarray(used);
    }
    this.#length -= n;
    return out;
  }

  /** Reads a u32le at `offset` without consuming. */
  peekU32(offset: number): number {
    const bytes = this.#peek(offset + 4);
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
  }

  #peek(n: number): Uint8Array {
    const first = this.#parts[0]!;
    if (first.length >= n) return first;
    const joined = this.take(this.#length);
    this.#parts = [joined];
    this.#length = joined.length;
    return joined;
  }
}

/** The generic framed decompression stream; the public classes choose the codec. */
class ChunkedDecompressionStream {
  /** Decompressed bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Framed compressed bytes. */
  readonly writable: WritableStream<Uint8Array>;

  constructor(codec: ChunkCodec) {
    const queue = new ByteQueue();
    let chunkSize = 0;
    let decoder: ChunkDecompressor | null = null;
    let sawShortFrame = false;
    const drain = (controller: TransformStreamDefaultController<Uint8Array>) => {
      if (chunkSize === 0) {
        if (queue.length < STREAM_HEADER_SIZE) return;
        chunkSize = queue.peekU32(0);
        queue.take(STREAM_HEADER_SIZE);
        if (chunkSize === 0 || chunkSize > MAX_STREAM_CHUNK_SIZE || (chunkSize & (chunkSize - 1))) {
          throw new CodecError(`stream header announces an invalid chunk size ${chunkSize}`);
        }
        decoder = createDecompressor(codec, chunkSize);
      }
      while (queue.length >= FRAME_HEADER_SIZE) {
        const size = queue.peekU32(0);
        const stored = queue.peekU32(4);
        if (size === 0 || size > chunkSize || stored === 0 || stored > size || sawShortFrame) {
          throw new CodecError(`invalid frame: ${stored} stored bytes for ${size} bytes`);
        }
        if (queue.length < FRAME_HEADER_SIZE + stored) return;
        queue.take(FRAME_HEADER_SIZE);
        const src = queue.take(stored);
        const out = new Uint8Array(size);
        if (stored === size) out.set(src);
        else decoder!.decompress(src, out);
        if (size < chunkSize) sawShortFrame = true;
        controller.enqueue(out);
      }
    };
    const transform = new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        queue.push(bytes);
        drain(controller);
      },
      flush() {
        if (chunkSize === 0 || queue.length !== 0) {
          throw new CodecError("compressed stream ended in the middle of a frame");
        }
      },
    });
    this.readable = transform.readable;
    this.writable = transform.writable;
  }
}

/**
 * Decompresses an XPRESS stream framed as in framing.ts.
 *
 * @example
 * ```ts
 * import { XpressDecompressionStream } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const framed = Uint8Array.of(0, 0x80, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 104, 105);
 * const text = await new Response(ReadableStream.from([framed]).pipeThrough(new XpressDecompressionStream())).text();
 * assert.ok(text === "hi");
 * ```
 */
export class XpressDecompressionStream extends ChunkedDecompressionStream {
  constructor() {
    super("xpress");
  }
}

/** Decompresses an LZX stream framed as in framing.ts (see {@linkcode XpressDecompressionStream}). */
export class LzxDecompressionStream extends ChunkedDecompressionStream {
  constructor() {
    super("lzx");
  }
}

/** Decompresses an LZMS stream framed as in framing.ts (see {@linkcode XpressDecompressionStream}). */
export class LzmsDecompressionStream extends ChunkedDecompressionStream {
  constructor() {
    super("lzms");
  }
}

/** Options of the compression streams. */
export interface CompressionStreamOptions {
  /** Uncompressed chunk size (default 32768; LZX's window follows it). */
  chunkSize?: number;
  /** Compression level, wimlib's scale (0 or absent = default). */
  level?: number;
  /** Where chunks are compressed (default: inline on this thread). */
  pool?: ChunkPool;
}

/** Chunks collected into one pool job. */
const STREAM_JOB_BYTES = 1 << 20;

/** The generic framed compression stream; the public classes choose the codec. */
class ChunkedCompressionStream {
  /** Framed compressed bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Uncompressed bytes. */
  readonly writable: WritableStream<Uint8Array>;

  constructor(codec: ChunkCodec, options: CompressionStreamOptions = {}) {
    const chunkSize = options.chunkSize ?? 32768;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || (chunkSize & (chunkSize - 1))) {
      throw new RangeError(`chunk size ${chunkSize} is not a power of two`);
    }
    const pool = options.pool ?? new InlineChunkPool();
    const level = options.level ?? 0;
    const jobBytes = Math.max(STREAM_JOB_BYTES, chunkSize);
    let buffer = new Uint8Array(jobBytes);
    let used = 0;
    const queue: { sizes: Uint32Array; result: Promise<EncodedChunks> }[] = [];
    const emit = async (controller: TransformStreamDefaultController<Uint8Array>) => {
      const { sizes, result } = queue.shift()!;
      const { output, storedSizes } = await result;
      let pos = 0;
      for (let i = 0; i < sizes.length; i++) {
        const frame = new Uint8Array(8 + storedSizes[i]!);
        const view = new DataView(frame.buffer);
        view.setUint32(0, sizes[i]!, true);
        view.setUint32(4, storedSizes[i]!, true);
        frame.set(output.subarray(pos, pos + storedSizes[i]!), 8);
        pos += storedSizes[i]!;
        controller.enqueue(frame);
      }
    };
    const submit = async (controller: TransformStreamDefaultController<Uint8Array>) => {
      if (used === 0) return;
      const count = Math.ceil(used / chunkSize);
      const sizes = Uint32Array.from(
        { length: count },
        (_, i) => Math.min(chunkSize, used - i * chunkSize),
      );
      const input = buffer.subarray(0, used);
      queue.push({ sizes, result: pool.encode({ codec, chunkSize, level, input, sizes }) });
      buffer = new Uint8Array(jobBytes);
      used = 0;
      while (queue.length >= pool.concurrency * 2) await emit(controller);
    };
    const transform = new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        const header = new Uint8Array(STREAM_HEADER_SIZE);
        new DataView(header.buffer).setUint32(0, chunkSize, true);
        controller.enqueue(header);
      },
      async transform(bytes, controller) {
        let pos = 0;
        while (pos < bytes.length) {
          const take = Math.min(bytes.length - pos, buffer.length - used);
          buffer.set(bytes.subarray(pos, pos + take), used);
          used += take;
          pos += take;
          if (used === buffer.length) await submit(controller);
        }
      },
      async flush(controller) {
        await submit(controller);
        while (queue.length > 0) await emit(controller);
      },
    });
    this.readable = transform.readable;
    this.writable = transform.writable;
  }
}

/**
 * Compresses bytes with XPRESS into the framing of framing.ts; pairs with
 * {@linkcode XpressDecompressionStream}.
 *
 * @example
 * ```ts
 * import { XpressCompressionStream, XpressDecompressionStream } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const text = "hello hello hello hello hello";
 * const round = ReadableStream.from([new TextEncoder().encode(text)])
 *   .pipeThrough(new XpressCompressionStream())
 *   .pipeThrough(new XpressDecompressionStream());
 * assert.ok(await new Response(round).text() === text);
 * ```
 */
export class XpressCompressionStream extends ChunkedCompressionStream {
  constructor(options: CompressionStreamOptions = {}) {
    super("xpress", options);
  }
}

/** Compresses bytes with LZX (see {@linkcode XpressCompressionStream}). */
export class LzxCompressionStream extends ChunkedCompressionStream {
  constructor(options: CompressionStreamOptions = {}) {
    super("lzx", options);
  }
}

/** Compresses bytes with LZMS (see {@linkcode XpressCompressionStream}). */
export class LzmsCompressionStream extends ChunkedCompressionStream {
  constructor(options: CompressionStreamOptions = {}) {
    super("lzms", options);
  }
}
