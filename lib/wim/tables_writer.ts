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
import type { ByteSink } from "../io/byte_sink.ts";
import {
  PIPABLE_BLOB_HEADER_SIZE,
  serializePipableBlobHeader,
} from "../format/pipable_blob_header.ts";

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
 * top-level TOTALBYTES), then the integrity table when `integrity` is true. With `pipable`, the
 * blob table and the XML each get a pipable blob header first (wim-format.md §13), and the offset
 * given to `xml` is that of the XML's blob header, as wimlib writes it.
 *
 * @example
 * ```ts ignore
 * const tables = writeTables(sink, pos, entries, (at) => xmlBytesWithTotal(at), true);
 * ```
 */
export function writeTables(
  sink: ByteSink,
  offset: number,
  entries: readonly BlobTableEntry[],
  xml: (xmlOffset: number) => Uint8Array,
  integrity: boolean,
  pipable = false,
): WrittenTables {
  const place = (bytes: Uint8Array, at: number, flags: number): ResourceHeader => {
    if (pipable && flags !== 0) {
      const hash = new Uint8Array(createHash("sha1").update(bytes).digest());
      sink.write(at, serializePipableBlobHeader({ size: bytes.length, hash, flags }));
      at += PIPABLE_BLOB_HEADER_SIZE;
    }
    sink.write(at, bytes);
    return { sizeInWim: bytes.length, flags, offset: at, originalSize: bytes.length };
  };
  const blobTable = place(serializeBlobTable(entries), offset, ResourceFlag.METADATA);
  const tableEnd = blobTable.offset + blobTable.sizeInWim;
  const xmlResource = place(xml(tableEnd), tableEnd, ResourceFlag.METADATA);
  let end = xmlResource.offset + xmlResource.sizeInWim;
  let integrityResource = EMPTY_RESOURCE;
  if (integrity) {
    integrityResource = place(computeIntegrityTable(sink, tableEnd), end, 0);
    end += integrityResource.sizeInWim;
  }
  return { blobTable, xml: xmlResource, integrity: integrityResource, end };
}

/** Hashes `[208, end)` of the file in 10 MiB chunks and encodes the integrity table. */
export function computeIntegrityTable(sink: ByteSink, end: number): Uint8Array {
  const hashes: Uint8Array[] = [];
  const buffer = new Uint8Array(INTEGRITY_CHUNK_SIZE);
  for (let pos = WIM_HEADER_SIZE; pos < end; pos += INTEGRITY_CHUNK_SIZE) {
    const length = Math.min(INTEGRITY_CHUNK_SIZE, end - pos);
    hashes.push(new Uint8Array(createHash("sha1").update(sink.read(pos, length, buffer)).digest()));
  }
  return serializeIntegrityTable({ chunkSize: INTEGRITY_CHUNK_SIZE, hashes });
}
