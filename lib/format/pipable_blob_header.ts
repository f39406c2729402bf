/**
 * The 40-byte header wimlib's pipable WIMs put before every resource (wim-format.md §13), so a
 * reader without the blob table knows what follows: magic, uncompressed size, SHA-1, flags.
 *
 * Pipable layout, as `wimlib-imagex --pipable` writes it: header (tables zero), XML copy without
 * top-level TOTALBYTES, every metadata resource, file blobs, blob table, XML, optional integrity
 * table (no blob header), header again as the last 208 bytes. A compressed resource is
 * `[u32 stored size][chunk]` per chunk, then the usual chunk table (offsets without the u32s).
 */

import { WimFormatError } from "../errors.ts";
import { readU64, toHex, viewOf, writeU64 } from "./bytes.ts";

/** Size of a pipable blob header. */
export const PIPABLE_BLOB_HEADER_SIZE = 40;
/** +0x00 of every pipable blob header. */
export const PIPABLE_BLOB_MAGIC = 0x2b9b9ba2443db9d8n;
/** Bytes before each chunk of a compressed pipable resource (its stored size, u32). */
export const PIPABLE_CHUNK_PREFIX_SIZE = 4;

/** A decoded pipable blob header. */
export interface PipableBlobHeader {
  /** +0x08: uncompressed size. */
  readonly size: number;
  /** +0x10: SHA-1 of the uncompressed blob. */
  readonly hash: Uint8Array;
  /** Lower-case hex of `hash`. */
  readonly hashHex: string;
  /** +0x24: resource flags (0x02 metadata, XML or blob table; 0x04 compressed). */
  readonly flags: number;
}

/**
 * Decodes a pipable blob header.
 *
 * @throws {WimFormatError} If the magic is wrong.
 *
 * @example
 * ```ts
 * import { parsePipableBlobHeader, serializePipableBlobHeader } from "./pipable_blob_header.ts";
 * import assert from "node:assert/strict";
 * const bytes = serializePipableBlobHeader({ size: 6, hash: new Uint8Array(20), flags: 4 });
 * assert.ok(parsePipableBlobHeader(bytes).size === 6);
 * ```
 */
export function parsePipableBlobHeader(bytes: Uint8Array): PipableBlobHeader {
  if (bytes.length < PIPABLE_BLOB_HEADER_SIZE) {
    throw new WimFormatError(`pipable blob header is ${bytes.length} bytes, expected 40`);
  }
  const view = viewOf(bytes);
  if (view.getBigUint64(0, true) !== PIPABLE_BLOB_MAGIC) {
    throw new WimFormatError("expected a pipable blob header, found other bytes");
  }
  const hash = bytes.slice(16, 36);
  return {
    size: readU64(view, 8, "pipable blob size"),
    hash,
    hashHex: toHex(hash),
    flags: view.getUint32(36, true),
  };
}

/**
 * Encodes a pipable blob header.
 *
 * @example
 * ```ts
 * import { serializePipableBlobHeader } from "./pipable_blob_header.ts";
 * import assert from "node:assert/strict";
 * const bytes = serializePipableBlobHeader({ size: 1, hash: new Uint8Array(20), flags: 2 });
 * assert.ok(bytes.length === 40 && bytes[36] === 2);
 * ```
 */
export function serializePipableBlobHeader(
  header: Pick<PipableBlobHeader, "size" | "hash" | "flags">,
): Uint8Array {
  const out = new Uint8Array(PIPABLE_BLOB_HEADER_SIZE);
  const view = viewOf(out);
  view.setBigUint64(0, PIPABLE_BLOB_MAGIC, true);
  writeU64(view, 8, header.size);
  out.set(header.hash, 16);
  view.setUint32(36, header.flags, true);
  return out;
}
