/**
 * Reading pipable WIMs from a seekable file: the complete header at the end of the file, and each
 * compressed resource presented in the normal layout (wim-format.md §4.2), so that every reader of
 * blobs (apply, extract, verify, export's byte-for-byte copy) works on pipable files unchanged.
 *
 * A compressed pipable resource is `[u32 stored size][chunk]` per chunk, then the normal chunk
 * table (offsets counted without the u32s). Seen through {@linkcode pipableResourceView} it is
 * `[chunk table][chunk 0][chunk 1]...` at the same file offset: reads of the table come from the
 * end of the resource, reads of chunk bytes skip the u32 prefixes.
 */

import { WimFormatError } from "../errors.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { WIM_HEADER_SIZE } from "../format/constants.ts";
import { parseHeader, type WimHeader } from "../format/header.ts";
import { isCompressedResource, type ResourceHeader } from "../format/resource_header.ts";
import { readU64, toHex, viewOf } from "../format/bytes.ts";
import { PIPABLE_CHUNK_PREFIX_SIZE } from "../format/pipable_blob_header.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import type { BlobLocation } from "./blob_location.ts";

/**
 * Reads the complete header of a pipable WIM from its last 208 bytes.
 *
 * @param first The header at offset 0 (pipable, table pointers zero).
 * @throws {WimFormatError} If the file does not end with a matching pipable header.
 *
 * @example
 * ```ts ignore
 * const header = await readPipableTrailer(source, parseHeader(await source.read(0, 208)));
 * ```
 */
export async function readPipableTrailer(
  source: ByteSource,
  first: WimHeader,
): Promise<WimHeader> {
  const incomplete = () =>
    new WimFormatError(
      "incomplete pipable WIM: it does not end with its header (truncated, or the writer did not finish)",
    );
  if (source.size < 2 * WIM_HEADER_SIZE) throw incomplete();
  let last: WimHeader;
  try {
    last = parseHeader(await source.read(source.size - WIM_HEADER_SIZE, WIM_HEADER_SIZE));
  } catch (error) {
    if (error instanceof WimFormatError) throw incomplete();
    throw error;
  }
  if (!last.pipable || toHex(last.guid) !== toHex(first.guid)) throw incomplete();
  return last;
}

/**
 * Where a blob of a pipable WIM is: uncompressed resources as they are, compressed ones through
 * a view in the normal layout.
 *
 * @throws {WimFormatError} If the resource is too small for its chunks.
 *
 * @example
 * ```ts ignore
 * const location = pipableLocation(source, entry.resource, "lzx", 32768);
 * ```
 */
export function pipableLocation(
  source: ByteSource,
  resource: ResourceHeader,
  codec: ChunkCodec | "none",
  chunkSize: number,
): BlobLocation {
  if (!isCompressedResource(resource) || codec === "none") {
    return { kind: "resource", source, resource, codec, chunkSize };
  }
  const view = pipableResourceView(source, resource, chunkSize);
  return {
    kind: "resource",
    source: view,
    resource: { ...resource, sizeInWim: view.size - resource.offset },
    codec,
    chunkSize,
  };
}

/**
 * A {@linkcode ByteSource} in which the compressed pipable resource at `resource.offset` reads as
 * a normal one (chunk table first, chunks back to back) at the same offset; other offsets are not
 * readable. The chunk table is read on first use.
 *
 * @throws {WimFormatError} If the resource is too small for its chunks.
 */
export function pipableResourceView(
  file: ByteSource,
  resource: ResourceHeader,
  chunkSize: number,
): ByteSource {
  const count = Math.ceil(resource.originalSize / chunkSize);
  const entrySize = resource.originalSize > 0xffffffff ? 8 : 4;
  const tableBytes = (count - 1) * entrySize;
  const prefixBytes = count * PIPABLE_CHUNK_PREFIX_SIZE;
  const storedBytes = resource.sizeInWim - prefixBytes - tableBytes;
  if (count === 0 || storedBytes < count) {
    throw new WimFormatError(
      `pipable resource at offset ${resource.offset} is too small for its ${count} chunks`,
    );
  }
  const base = resource.offset;
  const size = base + tableBytes + storedBytes;
  let starts: Promise<Float64Array> | undefined;
  // Offsets (without prefixes) of each chunk, plus the end of the last one.
  const chunkStarts = async (): Promise<Float64Array> => {
    const table = await file.read(base + prefixBytes + storedBytes, tableBytes);
    const tableView = viewOf(table);
    const out = new Float64Array(count + 1);
    for (let i = 1; i < count; i++) {
      out[i] = entrySize === 4
        ? tableView.getUint32((i - 1) * 4, true)
        : readU64(tableView, (i - 1) * 8, "chunk table entry");
      if (out[i]! <= out[i - 1]! || out[i]! >= storedBytes) {
        throw new WimFormatError(
          `pipable resource at offset ${base}: chunk ${i} starts at an invalid offset`,
        );
      }
    }
    out[count] = storedBytes;
    return out;
  };
  const view: ByteSource = {
    name: file.name,
    size,
    async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
      if (offset < base || offset + length > size) {
        throw new WimFormatError(
          `Cannot read "${file.name}": bytes ${offset}..${
            offset + length
          } lie outside the pipable resource at ${base}`,
        );
      }
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      let pos = offset - base;
      // The chunk table, which the file keeps after the chunks.
      if (pos < tableBytes) {
        const n = Math.min(length, tableBytes - pos);
        await file.read(base + prefixBytes + storedBytes + pos, n, out.subarray(0, n));
        done += n;
        pos += n;
      }
      if (done === length) return out;
      starts ??= chunkStarts();
      const offsets = await starts;
      let chunk = findChunk(offsets, pos - tableBytes);
      while (done < length) {
        const inStored = pos - tableBytes;
        const n = Math.min(length - done, offsets[chunk + 1]! - inStored);
        const fileOffset = base + (chunk + 1) * PIPABLE_CHUNK_PREFIX_SIZE + inStored;
        await file.read(fileOffset, n, out.subarray(done, done + n));
        done += n;
        pos += n;
        chunk++;
      }
      return out;
    },
    close() {},
    [Symbol.asyncDispose]() {
      return Promise.resolve();
    },
  };
  return view;
}

/** Index of the chunk holding stored offset `at` (offsets ascending, last entry = end). */
function findChunk(offsets: Float64Array, at: number): number {
  let low = 0;
  let high = offsets.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (offsets[mid]! <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}
