/**
 * Writes a solid resource (wim-format.md §5): every blob in one LZMS-style resource whose chunks
 * span blob boundaries, behind a header listing the stored size of each chunk.
 */

import { createHash } from "node:crypto";
import {
  ResourceFlag,
  SOLID_FORMATS,
  SOLID_HEADER_SIZE,
  SOLID_RESOURCE_MAGIC_SIZE,
} from "../format/constants.ts";
import { viewOf, writeU64 } from "../format/bytes.ts";
import type { ResourceHeader } from "../format/resource_header.ts";
import {
  type BlobToWrite,
  type BlobWriterOptions,
  checkKnownHash,
  checkSize,
  type WrittenBlob,
} from "./blob_writer.ts";
import { ChunkBatcher, type PendingJob } from "./chunk_batcher.ts";

/**
 * Writes every blob into one solid resource at `options.offset` (wim-format.md §5).
 *
 * @returns the resource's blob-table entry header, the blobs (with logical offsets) and the end.
 *
 * @example
 * ```ts ignore
 * const { resource, written, end } = await writeSolidResource(blobs, { ...options, codec: "lzms" });
 * ```
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
