/**
 * Writes what follows the resources of a WIM (or split part): the blob table, the XML and
 * optionally the integrity table, which covers the file from the end of the header to the end of
 * the blob table and is computed by reading back what was written (wim-format.md §11, §14.1).
 */

import { createHash } from "node:crypto";
import { ResourceFlag, WIM_HEADER_SIZE } from "../format/constants.ts";
import { type BlobTableEntry, serializeBlobTable } from "../format/blob_table.ts";
import { INTEGRITY_CHUNK_SIZE, serializeIntegrityTable } from "../format/integrity.ts";
import { EMPTY_RESOURCE, type ResourceHeader } from "../format/resource_header.ts";
import type { FileSink } from "../io/file_sink.ts";

/** Where the tables went. */
export interface WrittenTables {
  readonly blobTable: ResourceHeader;
  readonly xml: ResourceHeader;
  readonly integrity: ResourceHeader;
  /** Offset just past the last table. */
  readonly end: number;
}

/**
 * Writes the blob table at `offset`, then the XML (`xml` gets the XML's offset, which is the
 * top-level TOTALBYTES), then the integrity table when `integrity` is true.
 *
 * @example
 * ```ts ignore
 * const tables = writeTables(sink, pos, entries, (at) => xmlBytesWithTotal(at), true);
 * ```
 */
export function writeTables(
  sink: FileSink,
  offset: number,
  entries: readonly BlobTableEntry[],
  xml: (xmlOffset: number) => Uint8Array,
  integrity: boolean,
): WrittenTables {
  const place = (bytes: Uint8Array, at: number, flags: number): ResourceHeader => {
    sink.write(at, bytes);
    return { sizeInWim: bytes.length, flags, offset: at, originalSize: bytes.length };
  };
  const blobTable = place(serializeBlobTable(entries), offset, ResourceFlag.METADATA);
  const xmlOffset = offset + blobTable.sizeInWim;
  const xmlResource = place(xml(xmlOffset), xmlOffset, ResourceFlag.METADATA);
  let end = xmlOffset + xmlResource.sizeInWim;
  let integrityResource = EMPTY_RESOURCE;
  if (integrity) {
    integrityResource = place(computeIntegrityTable(sink, xmlOffset), end, 0);
    end += integrityResource.sizeInWim;
  }
  return { blobTable, xml: xmlResource, integrity: integrityResource, end };
}

/** Hashes `[208, end)` of the file in 10 MiB chunks and encodes the integrity table. */
export function computeIntegrityTable(sink: FileSink, end: number): Uint8Array {
  const hashes: Uint8Array[] = [];
  const buffer = new Uint8Array(INTEGRITY_CHUNK_SIZE);
  for (let pos = WIM_HEADER_SIZE; pos < end; pos += INTEGRITY_CHUNK_SIZE) {
    const length = Math.min(INTEGRITY_CHUNK_SIZE, end - pos);
    hashes.push(new Uint8Array(createHash("sha1").update(sink.read(pos, length, buffer)).digest()));
  }
  return serializeIntegrityTable({ chunkSize: INTEGRITY_CHUNK_SIZE, hashes });
}
