/**
 * Directory entries ("dentries") and their stream entries, wim-format.md §7.2 and §7.4.
 *
 * Fixed part (102 bytes): +0x00 u64 length, +0x08 u32 attributes, +0x0C s32 security id,
 * +0x10 u64 subdir offset, +0x18/+0x20 unused, +0x28/+0x30/+0x38 creation/access/write FILETIME,
 * +0x40 SHA-1 main hash, +0x54 u32 unknown, +0x58 reparse tag + u16 reserved + u16 flags, or u64
 * hard-link group id, +0x60 u16 stream entry count, +0x62 u16 short name bytes, +0x64 u16 name
 * bytes, +0x66 name, short name, padding, tagged items. A length of 8 or less marks the end of a
 * directory's list (8 bytes). Stream entries follow the dentry: +0x00 u64 length, +0x08 u64
 * reserved, +0x10 SHA-1, +0x24 u16 name bytes, +0x26 name.
 */

import { WimFormatError } from "../errors.ts";
import {
  DENTRY_FIXED_SIZE,
  FileAttribute,
  SHA1_SIZE,
  STREAM_ENTRY_FIXED_SIZE,
} from "./constants.ts";
import { decodeUtf16, readU64, viewOf } from "./bytes.ts";

const OFFSET_ATTRIBUTES = 0x08;
const OFFSET_SECURITY_ID = 0x0c;
const OFFSET_SUBDIR = 0x10;
const OFFSET_CREATION_TIME = 0x28;
const OFFSET_ACCESS_TIME = 0x30;
const OFFSET_WRITE_TIME = 0x38;
const OFFSET_HASH = 0x40;
const OFFSET_UNKNOWN = 0x54;
const OFFSET_REPARSE_TAG = 0x58;
const OFFSET_REPARSE_RESERVED = 0x5c;
const OFFSET_REPARSE_FLAGS = 0x5e;
const OFFSET_HARD_LINK = 0x58;
const OFFSET_STREAM_COUNT = 0x60;
const OFFSET_SHORT_NAME_BYTES = 0x62;
const OFFSET_NAME_BYTES = 0x64;

const STREAM_OFFSET_HASH = 0x10;
const STREAM_OFFSET_NAME_BYTES = 0x24;

/** One stream entry after a dentry. */
export interface StreamEntry {
  /** Stream name; "" for an unnamed entry. */
  readonly name: string;
  /** SHA-1 of the stream's data; all zero for an empty stream. */
  readonly hash: Uint8Array;
}

/** A dentry as stored on disk, without its children. */
export interface DentryRecord {
  /** `FileAttribute` bits. */
  readonly attributes: number;
  /** Index into the security descriptors, or -1. */
  readonly securityId: number;
  /** Offset of the child list from the start of the metadata resource; 0 = none. */
  readonly subdirOffset: number;
  /** FILETIME (100 ns since 1601). */
  readonly creationTime: bigint;
  /** FILETIME. */
  readonly lastAccessTime: bigint;
  /** FILETIME. */
  readonly lastWriteTime: bigint;
  /** Main hash (see §7.4 for which stream it is). */
  readonly mainHash: Uint8Array;
  /** +0x54, preserved. */
  readonly unknown0x54: number;
  /** Reparse tag (only with REPARSE_POINT). */
  readonly reparseTag: number;
  /** Reparse reserved u16 (only with REPARSE_POINT). */
  readonly reparseReserved: number;
  /** Reparse flags; bit 0 = NOT_FIXED (only with REPARSE_POINT). */
  readonly reparseFlags: number;
  /** Hard-link group id; 0 = single name (never with REPARSE_POINT). */
  readonly hardLinkGroup: bigint;
  /** Long name ("" for the root). */
  readonly name: string;
  /** Raw UTF-16LE bytes of the long name, for exact checks of hostile names. */
  readonly nameBytes: Uint8Array;
  /** 8.3 name, or "". */
  readonly shortName: string;
  /** Raw tagged-item area (may be empty). */
  readonly taggedItems: Uint8Array;
  /** Extra stream entries. */
  readonly streams: StreamEntry[];
}

/** A dentry record plus where the next sibling starts. */
export interface ParsedDentry {
  /** The dentry, or null for an end-of-list marker. */
  readonly dentry: DentryRecord | null;
  /** Offset just past this dentry and its stream entries. */
  readonly next: number;
}

/**
 * Decodes the dentry (and its stream entries) at `offset` of the uncompressed metadata resource.
 *
 * @throws {WimFormatError} If the dentry or a stream entry runs past the resource.
 *
 * @example
 * ```ts
 * import { parseDentry } from "./dentry.ts";
 * import assert from "node:assert/strict";
 * const end = parseDentry(new Uint8Array(8), 0);
 * assert.ok(end.dentry === null && end.next === 8);
 * ```
 */
export function parseDentry(metadata: Uint8Array, offset: number): ParsedDentry {
  if (offset + 8 > metadata.length) {
    throw new WimFormatError(`dentry at offset ${offset} runs past the metadata resource`);
  }
  const view = viewOf(metadata);
  const length = readU64(view, offset, "dentry length");
  if (length <= 8) return { dentry: null, next: offset + 8 };
  if (length < DENTRY_FIXED_SIZE || offset + length > metadata.length) {
    throw new WimFormatError(
      `dentry at offset ${offset} has length ${length}, outside 102..${metadata.length - offset}`,
    );
  }
  const nameBytesCount = view.getUint16(offset + OFFSET_NAME_BYTES, true);
  const shortBytesCount = view.getUint16(offset + OFFSET_SHORT_NAME_BYTES, true);
  if ((nameBytesCount | shortBytesCount) & 1) {
    throw new WimFormatError(`dentry at offset ${offset} has an odd name length`);
  }
  const nameStart = offset + DENTRY_FIXED_SIZE;
  const shortStart = nameStart + (nameBytesCount ? nameBytesCount + 2 : 0);
  const namesEnd = shortStart + (shortBytesCount ? shortBytesCount + 2 : 0);
  if (namesEnd > offset + length) {
    throw new WimFormatError(`dentry at offset ${offset}: names run past its length ${length}`);
  }
  const itemsStart = offset + ((namesEnd - offset + 7) & ~7);
  const attributes = view.getUint32(offset + OFFSET_ATTRIBUTES, true);
  const isReparse = (attributes & FileAttribute.REPARSE_POINT) !== 0;
  const nameBytes = metadata.slice(nameStart, nameStart + nameBytesCount);
  const streamCount = view.getUint16(offset + OFFSET_STREAM_COUNT, true);
  let next = offset + ((length + 7) & ~7);
  const streams: StreamEntry[] = [];
  for (let i = 0; i < streamCount; i++) {
    const parsed = parseStreamEntry(metadata, next);
    streams.push(parsed.entry);
    next = parsed.next;
  }
  return {
    dentry: {
      attributes,
      securityId: view.getInt32(offset + OFFSET_SECURITY_ID, true),
      subdirOffset: readU64(view, offset + OFFSET_SUBDIR, "subdir offset"),
      creationTime: view.getBigUint64(offset + OFFSET_CREATION_TIME, true),
      lastAccessTime: view.getBigUint64(offset + OFFSET_ACCESS_TIME, true),
      lastWriteTime: view.getBigUint64(offset + OFFSET_WRITE_TIME, true),
      mainHash: metadata.slice(offset + OFFSET_HASH, offset + OFFSET_HASH + SHA1_SIZE),
      unknown0x54: view.getUint32(offset + OFFSET_UNKNOWN, true),
      reparseTag: isReparse ? view.getUint32(offset + OFFSET_REPARSE_TAG, true) : 0,
      reparseReserved: isReparse ? view.getUint16(offset + OFFSET_REPARSE_RESERVED, true) : 0,
      reparseFlags: isReparse ? view.getUint16(offset + OFFSET_REPARSE_FLAGS, true) : 0,
      hardLinkGroup: isReparse ? 0n : view.getBigUint64(offset + OFFSET_HARD_LINK, true),
      name: decodeUtf16(nameBytes),
      nameBytes,
      shortName: decodeUtf16(metadata.subarray(shortStart, shortStart + shortBytesCount)),
      taggedItems: metadata.slice(itemsStart, offset + length),
      streams,
    },
    next,
  };
}

function parseStreamEntry(
  metadata: Uint8Array,
  offset: number,
): { entry: StreamEntry; next: number } {
  if (offset + STREAM_ENTRY_FIXED_SIZE > metadata.length) {
    throw new WimFormatError(`stream entry at offset ${offset} runs past the metadata resource`);
  }
  const view = viewOf(metadata);
  const length = readU64(view, offset, "stream entry length");
  const nameBytes = view.getUint16(offset + STREAM_OFFSET_NAME_BYTES, true);
  const needed = STREAM_ENTRY_FIXED_SIZE + (nameBytes ? nameBytes + 2 : 0);
  if (length < STREAM_ENTRY_FIXED_SIZE || offset + length > metadata.length || nameBytes & 1) {
    throw new WimFormatError(`stream entry at offset ${offset} has invalid length ${length}`);
  }
  if (nameBytes && needed > length) {
    throw new WimFormatError(`stream entry at offset ${offset}: name runs past its length`);
  }
  const nameStart = offset + STREAM_ENTRY_FIXED_SIZE;
  return {
    entry: {
      name: decodeUtf16(metadata.subarray(nameStart, nameStart + nameBytes)),
      hash: metadata.slice(offset + STREAM_OFFSET_HASH, offset + STREAM_OFFSET_HASH + SHA1_SIZE),
    },
    next: offset + ((length + 7) & ~7),
  };
}
