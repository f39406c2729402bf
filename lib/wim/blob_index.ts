/**
 * The index of the blobs of an opened WIM: every blob table entry of every part, each located in
 * its own resource (also in the pipable layout) or inside a solid resource, and the metadata
 * resources of the images in order.
 */

import { WimFormatError } from "../errors.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { Limits, WIM_VERSION_SOLID } from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import { headerCompression } from "../format/header.ts";
import { isEmptyResource, type ResourceHeader } from "../format/resource_header.ts";
import { type BlobTableEntry, groupBlobTable, parseBlobTable } from "../format/blob_table.ts";
import { type BlobInfo, SolidResource } from "./blob_location.ts";
import { pipableLocation } from "./pipable_resource.ts";
import { readUncompressed, type WimPart } from "./wim_parts.ts";

/**
 * Indexes the blobs of `parts` (in part order): the metadata resources of part 1 in order, and
 * every other blob by SHA-1 (the first entry of a hash wins).
 *
 * @throws {WimFormatError} If a resource runs past the end of its part or a blob lies outside
 *   the solid resources of its run.
 *
 * @example
 * ```ts ignore
 * const { metadata, blobs } = await indexBlobs(orderParts(parts, path));
 * ```
 */
export async function indexBlobs(
  parts: WimPart[],
): Promise<{ metadata: BlobInfo[]; blobs: Map<string, BlobInfo> }> {
  const metadata: BlobInfo[] = [];
  const blobs = new Map<string, BlobInfo>();
  for (const part of parts) {
    const header = part.header;
    if (isEmptyResource(header.blobTable)) continue;
    const table = await readUncompressed(
      part,
      header.blobTable,
      "blob table",
      Limits.MAX_BLOB_TABLE_BYTES,
    );
    const groups = groupBlobTable(parseBlobTable(table), header.version === WIM_VERSION_SOLID);
    const codec = headerCompression(header);
    const own = (entry: BlobTableEntry) => entry.partNumber === header.partNumber;
    const add = (info: BlobInfo) => {
      if (!blobs.has(info.hashHex)) blobs.set(info.hashHex, info);
    };
    const resourceBlob = (entry: BlobTableEntry): BlobInfo => {
      checkInFile(entry.resource, part.source);
      return {
        hash: entry.hash,
        hashHex: toHex(entry.hash),
        size: entry.resource.originalSize,
        refCount: entry.refCount,
        partNumber: header.partNumber,
        location: header.pipable
          ? pipableLocation(part.source, entry.resource, codec, header.chunkSize)
          : {
            kind: "resource",
            source: part.source,
            resource: entry.resource,
            codec,
            chunkSize: header.chunkSize,
          },
      };
    };
    if (header.partNumber === 1) {
      for (const entry of groups.metadata.filter(own)) metadata.push(resourceBlob(entry));
    }
    for (const entry of groups.plain) if (own(entry)) add(resourceBlob(entry));
    for (const run of groups.solidRuns) {
      const resources: SolidResource[] = [];
      let runOffset = 0;
      for (const entry of run.resources) {
        if (!own(entry)) continue;
        checkInFile(entry.resource, part.source);
        const solid = new SolidResource(
          part.source,
          entry.resource.offset,
          entry.resource.sizeInWim,
        );
        await solid.readHeader();
        solid.runOffset = runOffset;
        runOffset += solid.uncompressedSize;
        resources.push(solid);
      }
      for (const entry of run.blobs) {
        if (!own(entry)) continue;
        const offset = entry.resource.offset;
        const size = entry.resource.sizeInWim;
        const solid = resources.find((r) =>
          offset >= r.runOffset && offset + size <= r.runOffset + r.uncompressedSize
        );
        if (!solid) {
          throw new WimFormatError(
            `blob ${toHex(entry.hash)} lies outside every solid resource of its run`,
          );
        }
        add({
          hash: entry.hash,
          hashHex: toHex(entry.hash),
          size,
          refCount: entry.refCount,
          partNumber: header.partNumber,
          location: { kind: "solid", solid, offset: offset - solid.runOffset },
        });
      }
    }
  }
  return { metadata, blobs };
}

/** Throws if `resource` runs past the end of `source`. */
function checkInFile(resource: ResourceHeader, source: ByteSource): void {
  if (resource.offset + resource.sizeInWim > source.size) {
    throw new WimFormatError(
      `a resource at offset ${resource.offset} (${resource.sizeInWim} bytes) runs past the end of "${source.name}"`,
    );
  }
}
