/**
 * The parts of a WIM being opened: each part's header (a pipable WIM's complete header is at its
 * end), the parts of a split set checked to belong together and put in order, and the reads of
 * the uncompressed tables they hold.
 */

import { WimFormatError, WimkitError } from "../errors.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { WIM_HEADER_SIZE } from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import { parseHeader, type WimHeader } from "../format/header.ts";
import { isEmptyResource, type ResourceHeader } from "../format/resource_header.ts";
import { readPipableTrailer } from "./pipable_resource.ts";

/** One part of a (possibly split) WIM. */
export interface WimPart {
  readonly source: ByteSource;
  readonly header: WimHeader;
}

/**
 * Reads and checks the header of a part.
 *
 * @throws {WimFormatError} If it is not a WIM, or an unfinished or truncated one.
 *
 * @example
 * ```ts
 * import { readHeader } from "./wim_parts.ts";
 * import { openFileSource } from "../io/file_source.ts";
 * import assert from "node:assert/strict";
 * const source = openFileSource("tests/fixtures/xpress.wim");
 * assert.ok((await readHeader(source)).imageCount >= 1);
 * source.close();
 * ```
 */
export async function readHeader(source: ByteSource): Promise<WimHeader> {
  if (source.size < WIM_HEADER_SIZE) {
    throw new WimFormatError(`not a WIM file: ${source.size} bytes is shorter than the header`);
  }
  let header = parseHeader(await source.read(0, WIM_HEADER_SIZE));
  // A pipable WIM (wimlib's streaming variant) has its complete header at the end.
  if (header.pipable) header = await readPipableTrailer(source, header);
  if (isEmptyResource(header.blobTable) && isEmptyResource(header.xml)) {
    throw new WimFormatError(
      "incomplete WIM: the writer did not finish (no blob table or XML data)",
    );
  }
  for (
    const [name, reshdr] of [["blob table", header.blobTable], ["XML data", header.xml]] as const
  ) {
    if (reshdr.offset + reshdr.sizeInWim > source.size) {
      throw new WimFormatError(`the ${name} runs past the end of the file (truncated WIM?)`);
    }
  }
  return header;
}

/**
 * The parts of one split set in part order, the first being the part named `path`'s set.
 *
 * @throws {WimkitError} If a part belongs to another set, or one is missing.
 *
 * @example
 * ```ts ignore
 * const ordered = orderParts(parts, path);
 * ```
 */
export function orderParts(parts: WimPart[], path: string): WimPart[] {
  const total = parts[0]!.header.totalParts;
  const guid = toHex(parts[0]!.header.guid);
  const byNumber = new Map<number, WimPart>();
  for (const part of parts) {
    if (toHex(part.header.guid) !== guid || part.header.totalParts !== total) {
      throw new WimkitError(
        `"${part.source.name}" is not part of the same split WIM as "${path}"`,
        "usage",
        {
          file: part.source.name,
        },
      );
    }
    byNumber.set(part.header.partNumber, part);
  }
  const ordered: WimPart[] = [];
  for (let n = 1; n <= total; n++) {
    const part = byNumber.get(n);
    if (!part) {
      throw new WimkitError(
        `split WIM "${path}" is missing part ${n} of ${total}; name the parts with --ref`,
        "usage",
        { file: path },
      );
    }
    ordered.push(part);
  }
  return ordered;
}

/**
 * Reads an uncompressed resource (XML, blob table, integrity table) of `part`, at most `limit`
 * bytes.
 *
 * @throws {WimFormatError} If it is larger than `limit` or runs past the end of the part.
 *
 * @example
 * ```ts ignore
 * const xml = await readUncompressed(part, part.header.xml, "XML data", Limits.MAX_XML_BYTES);
 * ```
 */
export async function readUncompressed(
  part: WimPart,
  reshdr: ResourceHeader,
  name: string,
  limit: number,
): Promise<Uint8Array> {
  if (reshdr.sizeInWim > limit) {
    throw new WimFormatError(`${name} is ${reshdr.sizeInWim} bytes, over ${limit}`);
  }
  if (reshdr.offset + reshdr.sizeInWim > part.source.size) {
    throw new WimFormatError(`${name} runs past the end of "${part.source.name}"`);
  }
  return await part.source.read(reshdr.offset, reshdr.sizeInWim);
}
