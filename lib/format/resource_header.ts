/**
 * The 24-byte resource header ("reshdr", MS `RESHDR_DISK_SHORT`), wim-format.md §3.
 *
 * +0x00 u56 size in the WIM, +0x07 u8 flags, +0x08 u64 file offset, +0x10 u64 original size.
 */

import { RESOURCE_HEADER_SIZE, ResourceFlag } from "./constants.ts";
import { readU64, viewOf, writeU64 } from "./bytes.ts";

/** A pointer to a resource, as stored on disk. */
export interface ResourceHeader {
  /** Bytes the resource occupies in the file. */
  readonly sizeInWim: number;
  /** `ResourceFlag` bits. */
  readonly flags: number;
  /** File offset of the resource's first byte (a logical offset for blobs in a solid run). */
  readonly offset: number;
  /** Uncompressed size (0x100000000 on a solid resource entry). */
  readonly originalSize: number;
}

/** An absent resource (all fields zero). */
export const EMPTY_RESOURCE: ResourceHeader = {
  sizeInWim: 0,
  flags: 0,
  offset: 0,
  originalSize: 0,
};

/**
 * Decodes a resource header from the first 24 bytes of `bytes`.
 *
 * @example
 * ```ts
 * import { parseResourceHeader } from "./resource_header.ts";
 * import assert from "node:assert/strict";
 * const header = parseResourceHeader(new Uint8Array(24));
 * assert.ok(header.sizeInWim === 0);
 * ```
 */
export function parseResourceHeader(bytes: Uint8Array, field = "resource header"): ResourceHeader {
  const view = viewOf(bytes);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  return {
    sizeInWim: (high & 0xffffff) * 0x100000000 + low,
    flags: high >>> 24,
    offset: readU64(view, 8, `${field} offset`),
    originalSize: readU64(view, 16, `${field} original size`),
  };
}

/** Encodes `header` into 24 bytes at `offset` of `out`. */
export function writeResourceHeader(out: Uint8Array, offset: number, header: ResourceHeader): void {
  const view = viewOf(out.subarray(offset, offset + RESOURCE_HEADER_SIZE));
  writeU64(view, 0, header.sizeInWim);
  view.setUint8(7, header.flags);
  writeU64(view, 8, header.offset);
  writeU64(view, 16, header.originalSize);
}

/** True when the header points at nothing. */
export function isEmptyResource(header: ResourceHeader): boolean {
  return header.sizeInWim === 0 && header.offset === 0 && header.originalSize === 0;
}

/** True when the resource is a non-solid chunked (compressed) resource. */
export function isCompressedResource(header: ResourceHeader): boolean {
  return (header.flags & ResourceFlag.COMPRESSED) !== 0 &&
    (header.flags & ResourceFlag.SOLID) === 0;
}
