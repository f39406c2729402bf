/**
 * Raw resource copy: a blob whose source WIM already stores it in the destination's compression
 * and chunk size is copied byte for byte, not decompressed and compressed again. The reads are
 * announced to their sources first (`ByteSource.willRead`), so that a remote source fetches each
 * run of adjacent resources with one request.
 */

import { ResourceFlag } from "../format/constants.ts";
import type { BlobTableEntry } from "../format/blob_table.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import type { ByteSource } from "../io/byte_source.ts";
import type { StoredResource } from "./new_image.ts";
import { announceRanges } from "./read_hints.ts";
import { PIECE_BYTES } from "./write_options.ts";

/** A stored resource to copy and the SHA-1 (hex) of its blob. */
export interface ResourceToCopy {
  readonly stored: StoredResource;
  readonly hash: string;
}

/** The blob table entries of copied resources and the offset after them. */
export interface CopiedResources {
  readonly entries: BlobTableEntry[];
  readonly end: number;
}

/**
 * Copies `copies` one after the other into `sink` from `offset`, in the order of their sources'
 * bytes (as wimlib does), so that each source is read forward; returns their blob table entries
 * (reference counts 0, for the caller to set) and the offset after the last.
 *
 * @example
 * ```ts ignore
 * const { entries, end } = await copyResources(sink, pos, [{ stored, hash }]);
 * ```
 */
export async function copyResources(
  sink: ByteSink,
  offset: number,
  copies: readonly ResourceToCopy[],
): Promise<CopiedResources> {
  const ordered = inFileOrder(copies);
  announceRanges(
    ordered.map(({ stored }) => ({
      source: stored.source,
      offset: stored.resource.offset,
      length: stored.resource.sizeInWim,
    })),
  );
  const entries: BlobTableEntry[] = [];
  let pos = offset;
  for (const { stored, hash } of ordered) {
    const resource = stored.resource;
    for (let done = 0; done < resource.sizeInWim; done += PIECE_BYTES) {
      const length = Math.min(PIECE_BYTES, resource.sizeInWim - done);
      sink.write(pos + done, await stored.source.read(resource.offset + done, length));
    }
    entries.push({
      resource: { ...resource, offset: pos, flags: resource.flags & ResourceFlag.COMPRESSED },
      partNumber: 1,
      refCount: 0,
      hash: Uint8Array.fromHex(hash),
    });
    pos += resource.sizeInWim;
  }
  return { entries, end: pos };
}

/** `copies` grouped by source (in order of first appearance), each group by offset. */
function inFileOrder(copies: readonly ResourceToCopy[]): ResourceToCopy[] {
  const bySource = new Map<ByteSource, ResourceToCopy[]>();
  for (const copy of copies) {
    const group = bySource.get(copy.stored.source);
    if (group) group.push(copy);
    else bySource.set(copy.stored.source, [copy]);
  }
  return [...bySource.values()].flatMap((group) =>
    group.sort((a, b) => a.stored.resource.offset - b.stored.resource.offset)
  );
}
