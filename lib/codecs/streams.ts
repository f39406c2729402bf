/**
 * `DecompressionStream`-shaped classes for XPRESS, LZX and LZMS over the framing of
 * {@link ./framing.ts}: `new LzxDecompressionStream()` has `readable` and `writable` and works
 * with `pipeThrough` like the built-in `DecompressionStream`. Corrupt input errors the readable
 * side with a {@linkcode CodecError} (the built-in reports a `TypeError`).
 */

import { CodecError } from "../errors.ts";
import { FRAME_HEADER_SIZE, STREAM_HEADER_SIZE } from "./framing.ts";
import { type ChunkCodec, createDecompressor } from "./registry.ts";
import type { ChunkDecompressor } from "./codec.ts";

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
 * const framed = Uint8Array.of(0, 0x80, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 104, 105);
 * const text = await new Response(ReadableStream.from([framed]).pipeThrough(new XpressDecompressionStream())).text();
 * console.assert(text === "hi");
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
