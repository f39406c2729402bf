/**
 * The blob table (Microsoft: "lookup table"), wim-format.md §5.3 and §6.
 *
 * One 50-byte entry per blob: +0x00 reshdr, +0x18 u16 part number, +0x1A u32 reference count,
 * +0x1E SHA-1 of the uncompressed blob. Inside a "solid run" (consecutive entries with the SOLID
 * flag) an entry whose original size is 0x100000000 describes a solid resource, and the other
 * entries describe blobs by their offset in the concatenation of the run's resources.
 */

import { WimFormatError } from "../errors.ts";
import {
  BLOB_TABLE_ENTRY_SIZE,
  RESOURCE_HEADER_SIZE,
  ResourceFlag,
  SHA1_SIZE,
  SOLID_RESOURCE_MAGIC_SIZE,
} from "./constants.ts";
import { isAllZero, viewOf } from "./bytes.ts";
import {
  parseResourceHeader,
  type ResourceHeader,
  writeResourceHeader,
} from "./resource_header.ts";

/** +0x18: part number. */
const OFFSET_PART = 0x18;
/** +0x1A: reference count. */
const OFFSET_REFCOUNT = 0x1a;
/** +0x1E: SHA-1. */
const OFFSET_HASH = 0x1e;

/** One blob table entry as stored on disk. */
export interface BlobTableEntry {
  /** Where the resource (or the blob inside a solid run) is. */
  readonly resource: ResourceHeader;
  /** Part of a split set that stores it (1-based). */
  readonly partNumber: number;
  /** References to this blob over all images. */
  readonly refCount: number;
  /** SHA-1 of the uncompressed blob (all zero on a solid resource entry). */
  readonly hash: Uint8Array;
}

/** A run of solid entries: its resources in table order and the blobs they hold. */
export interface SolidRun {
  /** Solid resource entries, in table order (their logical offsets concatenate in this order). */
  readonly resources: BlobTableEntry[];
  /** Blob entries; `resource.offset` is the blob's offset in the run's concatenation. */
  readonly blobs: BlobTableEntry[];
}

/** The blob table split by kind. */
export interface BlobTableGroups {
  /** Metadata resources in image order. */
  readonly metadata: BlobTableEntry[];
  /** Non-solid file blobs. */
  readonly plain: BlobTableEntry[];
  /** Solid runs. */
  readonly solidRuns: SolidRun[];
}

/**
 * Decodes a blob table.
 *
 * @throws {WimFormatError} If the size is not a multiple of 50 bytes.
 *
 * @example
 * ```ts
 * import { parseBlobTable } from "./blob_table.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseBlobTable(new Uint8Array(0)).length === 0);
 * ```
 */
export function parseBlobTable(bytes: Uint8Array): BlobTableEntry[] {
  if (bytes.length % BLOB_TABLE_ENTRY_SIZE !== 0) {
    throw new WimFormatError(
      `blob table is ${bytes.length} bytes, not a multiple of ${BLOB_TABLE_ENTRY_SIZE}`,
    );
  }
  const entries: BlobTableEntry[] = [];
  const view = viewOf(bytes);
  for (let pos = 0; pos < bytes.length; pos += BLOB_TABLE_ENTRY_SIZE) {
    entries.push({
      resource: parseResourceHeader(
        bytes.subarray(pos, pos + RESOURCE_HEADER_SIZE),
        `blob table entry ${pos / BLOB_TABLE_ENTRY_SIZE}`,
      ),
      partNumber: view.getUint16(pos + OFFSET_PART, true),
      refCount: view.getUint32(pos + OFFSET_REFCOUNT, true),
      hash: bytes.slice(pos + OFFSET_HASH, pos + OFFSET_HASH + SHA1_SIZE),
    });
  }
  return entries;
}

/** Encodes blob table entries. */
export function serializeBlobTable(entries: readonly BlobTableEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * BLOB_TABLE_ENTRY_SIZE);
  const view = viewOf(out);
  entries.forEach((entry, index) => {
    const pos = index * BLOB_TABLE_ENTRY_SIZE;
    writeResourceHeader(out, pos, entry.resource);
    view.setUint16(pos + OFFSET_PART, entry.partNumber, true);
    view.setUint32(pos + OFFSET_REFCOUNT, entry.refCount, true);
    out.set(entry.hash, pos + OFFSET_HASH);
  });
  return out;
}

/** True for the entry of a whole solid resource (not a blob inside one). */
export function isSolidResourceEntry(entry: BlobTableEntry): boolean {
  return (entry.resource.flags & ResourceFlag.SOLID) !== 0 &&
    entry.resource.originalSize === SOLID_RESOURCE_MAGIC_SIZE;
}

/**
 * Splits entries into metadata, plain blobs and solid runs; zero-size and zero-hash blobs and
 * metadata entries with a reference count of 0 are dropped, as wimlib does.
 *
 * @param solidAllowed False for version 0x10D00 files, whose SOLID flags are ignored.
 */
export function groupBlobTable(
  entries: readonly BlobTableEntry[],
  solidAllowed: boolean,
): BlobTableGroups {
  const metadata: BlobTableEntry[] = [];
  const plain: BlobTableEntry[] = [];
  const solidRuns: SolidRun[] = [];
  let run: SolidRun | null = null;
  for (const entry of entries) {
    const solid = solidAllowed && (entry.resource.flags & ResourceFlag.SOLID) !== 0;
    if (!solid) {
      run = null;
      if (entry.resource.flags & ResourceFlag.METADATA) {
        if (entry.refCount !== 0) metadata.push(entry);
      } else if (entry.resource.originalSize !== 0 && !isAllZero(entry.hash)) {
        plain.push(entry);
      }
      continue;
    }
    if (!run) {
      run = { resources: [], blobs: [] };
      solidRuns.push(run);
    }
    if (isSolidResourceEntry(entry)) run.resources.push(entry);
    else if (entry.resource.sizeInWim !== 0 && !isAllZero(entry.hash)) run.blobs.push(entry);
  }
  return { metadata, plain, solidRuns };
}
