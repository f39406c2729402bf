/**
 * Verifies a WIM the way `wimlib-imagex verify` does: the integrity table (if any), every image's
 * metadata (parsed, SHA-1 checked), that every blob an image uses is present, and every stored
 * blob's SHA-1.
 */

import { createHash } from "node:crypto";
import { WimIntegrityError, WimkitError } from "../errors.ts";
import { dentryStreams, walkTree } from "../format/metadata.ts";
import { toHex } from "../format/bytes.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { OperationOptions } from "../progress.ts";
import { type BlobInfo, compareLocation } from "./blob_location.ts";
import type { Wim } from "./wim.ts";

/** What {@linkcode verifyWim} checked. */
export interface VerifyReport {
  /** Images whose metadata was checked. */
  readonly images: number;
  /** Blobs whose SHA-1 was checked. */
  readonly blobs: number;
  /** Uncompressed bytes hashed. */
  readonly bytes: number;
  /** Whether an integrity table was present and checked. */
  readonly integrityTable: boolean;
}

/**
 * Checks everything in `wim`; throws on the first problem.
 *
 * @throws {WimIntegrityError} If a SHA-1 or the integrity table does not match.
 * @throws {WimkitError} If a blob that an image uses is missing.
 *
 * @example
 * ```ts
 * import { verifyWim, Wim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/lzms.wim");
 * const report = await verifyWim(wim);
 * assert.ok(report.images === 1);
 * ```
 */
export async function verifyWim(
  wim: Wim,
  options: OperationOptions & { pool?: ChunkPool } = {},
): Promise<VerifyReport> {
  const integrityTable = await wim.checkIntegrity();
  for (let index = 1; index <= wim.imageCount; index++) {
    const image = await wim.readImage(index);
    for (const { node, path } of walkTree(image.metadata.root)) {
      const streams = dentryStreams(node);
      const hashes = [streams.data, streams.reparse, ...streams.named.map((s) => s.hash)];
      for (const hash of hashes) {
        if (hash && !wim.blob(hash)) {
          throw new WimkitError(
            `Cannot verify "${wim.path}": image ${index} needs blob ${
              toHex(hash)
            } for "/${path}", which is missing${
              wim.header.totalParts > 1 ? " (name every part with --ref)" : ""
            }`,
            "format",
            { file: wim.path, image: index, path: `/${path}` },
          );
        }
      }
    }
  }
  const blobs = wim.blobs().sort(compareLocation);
  let totalBytes = 0;
  for (const blob of blobs) totalBytes += blob.size;
  let doneBytes = 0;
  let currentBlob: BlobInfo | null = null;
  let hash = createHash("sha1");
  let nextProgress = 0;
  const readOptions = {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  for await (const piece of wim.readBlobs(blobs, readOptions)) {
    if (currentBlob !== piece.blob) {
      currentBlob = piece.blob;
      hash = createHash("sha1");
    }
    hash.update(piece.data);
    doneBytes += piece.data.length;
    if (piece.offset + piece.data.length === piece.blob.size) {
      const digest = hash.digest("hex");
      if (digest !== piece.blob.hashHex) {
        throw new WimIntegrityError(
          `Cannot verify "${wim.path}": blob ${piece.blob.hashHex} has SHA-1 ${digest}`,
          { file: wim.path },
        );
      }
      currentBlob = null;
    }
    if (doneBytes >= nextProgress) {
      options.onProgress?.({ type: "verify", doneBytes, totalBytes });
      nextProgress = doneBytes + (4 << 20);
    }
  }
  options.onProgress?.({ type: "verify", doneBytes, totalBytes });
  return { images: wim.imageCount, blobs: blobs.length, bytes: doneBytes, integrityTable };
}
