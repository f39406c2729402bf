/**
 * A batch of chunks to decode in one go: the unit the chunk pool hands to a worker.
 *
 * Batching matters: a worker round trip costs about 0.2 ms on this machine (stack.md §6), so jobs
 * carry about 1 MiB of output, not one 32 KiB chunk.
 */

import { CodecError } from "../errors.ts";
import type { ChunkCodec, DecompressorCache } from "./registry.ts";

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
 * const out = decodeJob({ codec: "xpress", chunkSize: 32768, input: Uint8Array.of(7),
 *   chunks: Uint32Array.of(0, 1, 1) }, new DecompressorCache());
 * console.assert(out[0] === 7);
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
  const out = output ?? new Uint8Array(total);
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
