/**
 * The start of wimlib's pipable layout (wim-format.md §13): a first header whose table pointers
 * are zero, then the XML behind a blob header, so that a reader of a pipe knows the images before
 * their metadata and data arrive. The complete header follows the tables at the end.
 */

import { ResourceFlag, WIM_HEADER_SIZE } from "../format/constants.ts";
import { serializeHeader, type WimHeader } from "../format/header.ts";
import { serializePipableBlobHeader } from "../format/pipable_blob_header.ts";
import type { WimXml } from "../format/xml_info.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import { createHash } from "node:crypto";

/**
 * Writes the first header (complete but for the table pointers) and a copy of the XML (without
 * top-level TOTALBYTES) behind a blob header from offset 0; returns the offset after them.
 *
 * @example
 * ```ts ignore
 * let pos = writePipableStart(sink, { ...header, imageCount }, xml);
 * ```
 */
export function writePipableStart(sink: ByteSink, header: WimHeader, xml: WimXml): number {
  sink.write(0, serializeHeader(header));
  const bytes = xml.serialize();
  const hash = new Uint8Array(createHash("sha1").update(bytes).digest());
  const blobHeader = serializePipableBlobHeader({
    size: bytes.length,
    hash,
    flags: ResourceFlag.METADATA,
  });
  sink.write(WIM_HEADER_SIZE, blobHeader);
  sink.write(WIM_HEADER_SIZE + blobHeader.length, bytes);
  return WIM_HEADER_SIZE + blobHeader.length + bytes.length;
}
