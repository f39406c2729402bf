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
  const reads: SourceRange[] = [];
  for (const blob of blobs) {
    const location = blob.location;
    if (location.kind !== "resource" || blob.size === 0) continue;
    const { offset, sizeInWim: length } = location.resource;
    reads.push({ source: location.source, offset, length });
  }
  announceRanges(reads);
}

/** A range of bytes of one source. */
export interface SourceRange extends ByteRange {
  readonly source: ByteSource;
}

/**
 * Announces `reads` to their sources, one call per source (`ByteSource.willRead`); sources
 * without that method are skipped.
 *
 * @example
 * ```ts
 * import { announceRanges } from "./read_hints.ts";
 * import { openFileSource } from "../io/file_source.ts";
 * const source = openFileSource("tests/fixtures/xpress.wim");
 * announceRanges([{ source, offset: 0, length: 208 }]); // a local file ignores the advice
 * source.close();
 * ```
 */
export function announceRanges(reads: readonly SourceRange[]): void {
  const bySource = new Map<ByteSource, ByteRange[]>();
  for (const { source, offset, length } of reads) {
    if (source.willRead === undefined) continue;
    let ranges = bySource.get(source);
    if (!ranges) bySource.set(source, ranges = []);
    ranges.push({ offset, length });
  }
  for (const [source, ranges] of bySource) source.willRead!(ranges);
}
