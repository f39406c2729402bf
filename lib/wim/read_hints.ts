/**
 * Tells the sources of a list of blobs which of their bytes are about to be read, so that a
 * remote source can fetch each run of adjacent resources with one request (see
 * `lib/io/http_source.ts`).
 */

import type { ByteRange, ByteSource } from "../io/byte_source.ts";
import type { BlobInfo } from "./blob_location.ts";

/**
 * Announces the resources of `blobs` to their sources (`ByteSource.willRead`); sources without
 * that method are skipped. Blobs in solid resources are not announced: a solid resource is shared
 * by many blobs, and a reader usually needs only some of its chunks.
 *
 * @example
 * ```ts
 * import { announceReads } from "./read_hints.ts";
 * import { Wim } from "@wimkit/wimkit";
 * await using wim = await Wim.open("tests/fixtures/xpress.wim");
 * announceReads(wim.blobs()); // a local file ignores the advice
 * ```
 */
export function announceReads(blobs: readonly BlobInfo[]): void {
  const bySource = new Map<ByteSource, ByteRange[]>();
  for (const blob of blobs) {
    const location = blob.location;
    if (location.kind !== "resource" || blob.size === 0) continue;
    if (location.source.willRead === undefined) continue;
    let ranges = bySource.get(location.source);
    if (!ranges) bySource.set(location.source, ranges = []);
    ranges.push({ offset: location.resource.offset, length: location.resource.sizeInWim });
  }
  for (const [source, ranges] of bySource) source.willRead!(ranges);
}
