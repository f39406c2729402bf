/**
 * Where apply gets an image's file data: a {@linkcode Wim} (any order it likes, read in on-disk
 * order), or a pipable WIM arriving on a pipe (the order the stream has). Apply itself
 * (lib/fs/apply.ts) only asks for blobs by SHA-1 and writes the pieces it is given.
 */

import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { HeaderFlag } from "../format/constants.ts";
import { type BlobInfo, compareLocation } from "../wim/blob_location.ts";
import type { Wim } from "../wim/wim.ts";

/** A blob apply asks for. */
export interface ApplyBlob {
  /** Lower-case hex SHA-1. */
  readonly hashHex: string;
  /** Uncompressed size (0 when the source learns it only as the data arrives). */
  readonly size: number;
}

/** A piece of one blob's data; `data` is valid until the next piece is requested. */
export interface ApplyPiece {
  /** The blob (its `size` is exact here); the same object for every piece of one blob. */
  readonly blob: ApplyBlob;
  /** Offset of the piece within the blob. */
  readonly offset: number;
  /** The bytes. */
  readonly data: Uint8Array;
}

/** The source of an image's data for apply. */
export interface ApplyDataSource {
  /** Name for messages (a path, "standard input"). */
  readonly name: string;
  /** The WIM's RP_FIX flag: absolute links were rebased at capture. */
  readonly rpfix: boolean;
  /** Appended to the message about a missing blob. */
  readonly missingHint: string;
  /** The blob with SHA-1 `hashHex`, or undefined when the source does not have it. */
  blob(hashHex: string): ApplyBlob | undefined;
  /**
   * Yields the data of `blobs`, each blob's pieces in order, blob after blob, in the order the
   * source reads best.
   *
   * @throws {WimkitError} If a blob turns out to be missing (sources that learn it late).
   */
  readBlobs(
    blobs: readonly ApplyBlob[],
    options: { pool?: ChunkPool; signal?: AbortSignal },
  ): AsyncIterable<ApplyPiece>;
}

/**
 * A WIM as an apply data source: blobs read in on-disk order.
 *
 * @example
 * ```ts
 * import { Wim } from "../wim/wim.ts";
 * import { wimDataSource } from "./apply_source.ts";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const source = wimDataSource(wim);
 * assert.ok(source.blob("f572d396fae9206628714fb2ce00f72e94f2258f")?.size === 6);
 * ```
 */
export function wimDataSource(wim: Wim): ApplyDataSource {
  return {
    name: wim.path,
    rpfix: (wim.header.flags & HeaderFlag.RP_FIX) !== 0,
    missingHint: wim.header.totalParts > 1 ? " (name every part with --ref)" : "",
    blob: (hashHex) => wim.blob(hashHex),
    readBlobs(blobs, options) {
      const infos: BlobInfo[] = [];
      for (const blob of blobs) {
        const info = wim.blob(blob.hashHex);
        if (info) infos.push(info);
      }
      return wim.readBlobs(infos.sort(compareLocation), options);
    },
  };
}
