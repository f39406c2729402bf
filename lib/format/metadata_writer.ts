/**
 * Serializes an image's dentry tree into a metadata resource (wim-format.md §7), the way wimlib
 * 1.14 and DISM lay it out: security data, the root, its end marker, then every directory's child
 * list in depth-first pre-order, siblings sorted in NTFS-like collation, subdir offsets computed
 * from the lengths first. Stream entries follow the DISM-compatible rules of §7.4.
 */

import {
  DENTRY_FIXED_SIZE,
  FileAttribute,
  SHA1_SIZE,
  STREAM_ENTRY_FIXED_SIZE,
} from "./constants.ts";
import { encodeUtf16, viewOf, writeU64 } from "./bytes.ts";
import { serializeSecurityData } from "./security.ts";

/** A dentry to write; hashes are raw 20-byte SHA-1s, null for empty or absent streams. */
export interface DentryToWrite {
  /** Long name ("" for the root). */
  readonly name: string;
  /** 8.3 name or "". */
  readonly shortName?: string;
  /** FILE_ATTRIBUTE_* bits. */
  readonly attributes: number;
  /** Index into the security descriptors, or -1. */
  readonly securityId?: number;
  /** FILETIMEs. */
  readonly creationTime: bigint;
  readonly lastAccessTime: bigint;
  readonly lastWriteTime: bigint;
  /** Unnamed data stream hash (regular files). */
  readonly dataHash: Uint8Array | null;
  /** Reparse data hash (reparse points). */
  readonly reparseHash?: Uint8Array | null;
  /** Reparse tag and flags (reparse points). */
  readonly reparseTag?: number;
  readonly reparseFlags?: number;
  /** Named data streams. */
  readonly namedStreams?: readonly { name: string; hash: Uint8Array | null }[];
  /** Hard-link group id, 0 for a single name. */
  readonly hardLinkGroup?: bigint;
  /** Raw tagged items (UNIX data, xattrs). */
  readonly taggedItems?: Uint8Array;
  /** +0x54, preserved from a read image. */
  readonly unknown0x54?: number;
  /** Children (directories only). */
  readonly children?: readonly DentryToWrite[];
}

const ZERO_HASH = new Uint8Array(SHA1_SIZE);

interface StreamToWrite {
  name: string;
  hash: Uint8Array | null;
}

/** The main hash and the stream entries of a dentry, per the DISM-compatible writer rules. */
function layoutStreams(
  dentry: DentryToWrite,
): { main: Uint8Array | null; entries: StreamToWrite[] } {
  const isDirectory = (dentry.attributes & FileAttribute.DIRECTORY) !== 0;
  const isReparse = (dentry.attributes & FileAttribute.REPARSE_POINT) !== 0;
  const unnamed: StreamToWrite[] = [];
  if (isReparse) unnamed.push({ name: "", hash: dentry.reparseHash ?? null });
  if (!isDirectory) unnamed.push({ name: "", hash: dentry.dataHash });
  const named = (dentry.namedStreams ?? []).map((s) => ({ name: s.name, hash: s.hash }));
  if (unnamed.length <= 1 && named.length === 0) {
    return { main: unnamed[0]?.hash ?? null, entries: [] };
  }
  return { main: null, entries: [...unnamed, ...named] };
}

function dentryLength(dentry: DentryToWrite): number {
  const nameBytes = dentry.name.length * 2;
  const shortBytes = (dentry.shortName ?? "").length * 2;
  const names = (nameBytes ? nameBytes + 2 : 0) + (shortBytes ? shortBytes + 2 : 0);
  return align8(DENTRY_FIXED_SIZE + names) + align8(dentry.taggedItems?.length ?? 0);
}

function streamEntryLength(stream: StreamToWrite): number {
  return align8(STREAM_ENTRY_FIXED_SIZE + (stream.name ? stream.name.length * 2 + 2 : 0));
}

function totalLength(dentry: DentryToWrite): number {
  let length = dentryLength(dentry);
  for (const entry of layoutStreams(dentry).entries) length += streamEntryLength(entry);
  return length;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Orders names as wimlib and NTFS do: compare upper-cased UTF-16 code units, then the code units
 * themselves to break ties.
 *
 * @example
 * ```ts
 * import { compareNames } from "./metadata_writer.ts";
 * import assert from "node:assert/strict";
 * assert.ok(["b", "_", "A"].sort(compareNames).join("") === "Ab_");
 * ```
 */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = upcase(a.charCodeAt(i));
    const y = upcase(b.charCodeAt(i));
    if (x !== y) return x - y;
  }
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const upcaseCache = new Map<number, number>();

function upcase(unit: number): number {
  if (unit < 0x80) return unit >= 0x61 && unit <= 0x7a ? unit - 0x20 : unit;
  let value = upcaseCache.get(unit);
  if (value === undefined) {
    const upper = String.fromCharCode(unit).toUpperCase();
    value = upper.length === 1 ? upper.charCodeAt(0) : unit;
    upcaseCache.set(unit, value);
  }
  return value;
}

/**
 * Encodes security descriptors and a dentry tree as an uncompressed metadata resource.
 *
 * @example
 * ```ts
 * import { serializeMetadata } from "./metadata_writer.ts";
 * import { parseMetadata } from "./metadata.ts";
 * import assert from "node:assert/strict";
 * const root = { name: "", attributes: 0x10, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n,
 *   dataHash: null, children: [] };
 * assert.ok(parseMetadata(serializeMetadata([], root)).root.children.length === 0);
 * ```
 */
export function serializeMetadata(
  descriptors: readonly Uint8Array[],
  root: DentryToWrite,
): Uint8Array {
  const security = serializeSecurityData(descriptors);
  // Pass 1: assign each directory's child list an offset, depth-first pre-order.
  const listOffsets = new Map<DentryToWrite, number>();
  const sortedChildren = new Map<DentryToWrite, DentryToWrite[]>();
  let offset = security.length + totalLength(root) + 8;
  const assign = (directory: DentryToWrite) => {
    const stack: DentryToWrite[] = [directory];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const children = [...(dir.children ?? [])].sort((a, b) => compareNames(a.name, b.name));
      sortedChildren.set(dir, children);
      listOffsets.set(dir, offset);
      for (const child of children) offset += totalLength(child);
      offset += 8;
      for (let i = children.length - 1; i >= 0; i--) {
        const child = children[i]!;
        if (isListDirectory(child)) stack.push(child);
      }
    }
  };
  assign(root);
  const out = new Uint8Array(offset);
  out.set(security, 0);
  // Pass 2: write the root, its end marker, then the lists in the same order.
  let pos = writeDentry(out, security.length, root, listOffsets.get(root)!);
  pos += 8;
  const stack: DentryToWrite[] = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const children = sortedChildren.get(dir)!;
    for (const child of children) {
      pos = writeDentry(out, pos, child, isListDirectory(child) ? listOffsets.get(child)! : 0);
    }
    pos += 8;
    for (let i = children.length - 1; i >= 0; i--) {
      if (isListDirectory(children[i]!)) stack.push(children[i]!);
    }
  }
  return out;
}

function isListDirectory(dentry: DentryToWrite): boolean {
  return (dentry.attributes & FileAttribute.DIRECTORY) !== 0 &&
    (dentry.attributes & FileAttribute.REPARSE_POINT) === 0;
}

function writeDentry(
  out: Uint8Array,
  pos: number,
  dentry: DentryToWrite,
  subdirOffset: number,
): number {
  const view = viewOf(out);
  const { main, entries } = layoutStreams(dentry);
  const length = dentryLength(dentry);
  const name = encodeUtf16(dentry.name);
  const shortName = encodeUtf16(dentry.shortName ?? "");
  writeU64(view, pos, length);
  view.setUint32(pos + 0x08, dentry.attributes, true);
  view.setInt32(pos + 0x0c, dentry.securityId ?? -1, true);
  writeU64(view, pos + 0x10, subdirOffset);
  view.setBigUint64(pos + 0x28, dentry.creationTime, true);
  view.setBigUint64(pos + 0x30, dentry.lastAccessTime, true);
  view.setBigUint64(pos + 0x38, dentry.lastWriteTime, true);
  out.set(main ?? ZERO_HASH, pos + 0x40);
  view.setUint32(pos + 0x54, dentry.unknown0x54 ?? 0, true);
  if (dentry.attributes & FileAttribute.REPARSE_POINT) {
    view.setUint32(pos + 0x58, dentry.reparseTag ?? 0, true);
    view.setUint16(pos + 0x5e, dentry.reparseFlags ?? 0, true);
  } else {
    view.setBigUint64(pos + 0x58, dentry.hardLinkGroup ?? 0n, true);
  }
  view.setUint16(pos + 0x60, entries.length, true);
  view.setUint16(pos + 0x62, shortName.length, true);
  view.setUint16(pos + 0x64, name.length, true);
  out.set(name, pos + DENTRY_FIXED_SIZE);
  out.set(shortName, pos + DENTRY_FIXED_SIZE + (name.length ? name.length + 2 : 0));
  if (dentry.taggedItems?.length) {
    out.set(dentry.taggedItems, pos + length - align8(dentry.taggedItems.length));
  }
  let next = pos + length;
  for (const entry of entries) {
    const entryLength = streamEntryLength(entry);
    writeU64(view, next, entryLength);
    out.set(entry.hash ?? ZERO_HASH, next + 0x10);
    const entryName = encodeUtf16(entry.name);
    view.setUint16(next + 0x24, entryName.length, true);
    out.set(entryName, next + STREAM_ENTRY_FIXED_SIZE);
    next += entryLength;
  }
  return next;
}
