/** Computes an integrity table by reading back what was written (wim-format.md §11). */

import { createHash } from "node:crypto";
import { WIM_HEADER_SIZE } from "../format/constants.ts";
import { INTEGRITY_CHUNK_SIZE, serializeIntegrityTable } from "../format/integrity.ts";
import type { FileSink } from "../io/file_sink.ts";

/**
 * Hashes `[208, end)` of the file in 10 MiB chunks and encodes the table.
 *
 * @example
 * ```ts ignore
 * const table = computeIntegrityTable(sink, blobTable.offset + blobTable.sizeInWim);
 * ```
 */
export function computeIntegrityTable(sink: FileSink, end: number): Uint8Array {
  const hashes: Uint8Array[] = [];
  const buffer = new Uint8Array(INTEGRITY_CHUNK_SIZE);
  for (let pos = WIM_HEADER_SIZE; pos < end; pos += INTEGRITY_CHUNK_SIZE) {
    const length = Math.min(INTEGRITY_CHUNK_SIZE, end - pos);
    hashes.push(new Uint8Array(createHash("sha1").update(sink.read(pos, length, buffer)).digest()));
  }
  return serializeIntegrityTable({ chunkSize: INTEGRITY_CHUNK_SIZE, hashes });
}
