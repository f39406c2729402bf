/**
 * Times in zip entries: FILETIMEs (100 ns since 1601) to and from JavaScript dates, and the NTFS
 * extra field (0x000a) that holds an entry's three FILETIMEs at full precision. zip.js writes the
 * MS-DOS time (2 s, local time, 1980-2107) and the extended timestamp (1 s, signed 32-bit); 7-Zip
 * reads the NTFS field, Info-ZIP's unzip the extended timestamp. On reading, the NTFS field wins,
 * then zip.js's `lastModDate` (extended timestamp, else MS-DOS time).
 */

import type { Entry } from "@zip.js/zip.js";
import type { DentryNode } from "../format/metadata.ts";
import type { NewNode } from "../wim/new_image.ts";

/** 100-ns ticks between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFFERENCE_TICKS = 116444736000000000n;
const TICKS_PER_MILLISECOND = 10_000n;
/** The NTFS extra field and its attribute 1 (three FILETIMEs). */
const EXTRA_FIELD_NTFS = 0x000a;
const NTFS_ATTRIBUTE_TIMES = 0x0001;

/**
 * Creation, access and modification FILETIMEs of an entry, at the best precision it stores.
 *
 * @example
 * ```ts ignore
 * const { lastWriteTime } = entryTimes(entry);
 * ```
 */
export function entryTimes(
  entry: Entry,
): Pick<NewNode, "creationTime" | "lastAccessTime" | "lastWriteTime"> {
  const ntfs = entry.extraFieldNTFS;
  const write = ntfs?.rawLastModDate ?? dateToFiletime(entry.lastModDate);
  return {
    creationTime: ntfs?.rawCreationDate ?? write,
    lastAccessTime: ntfs?.rawLastAccessDate ?? write,
    lastWriteTime: write,
  };
}

/**
 * The NTFS extra field (0x000a) holding the node's three FILETIMEs at 100 ns (none when the node
 * has no modification time).
 *
 * @example
 * ```ts ignore
 * const extraField = ntfsExtraField(node);
 * ```
 */
export function ntfsExtraField(node: DentryNode): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>();
  if (node.lastWriteTime <= 0n) return fields;
  const data = new Uint8Array(32);
  const view = new DataView(data.buffer);
  view.setUint16(4, NTFS_ATTRIBUTE_TIMES, true);
  view.setUint16(6, 24, true);
  view.setBigUint64(8, node.lastWriteTime, true);
  view.setBigUint64(16, node.lastAccessTime > 0n ? node.lastAccessTime : node.lastWriteTime, true);
  view.setBigUint64(24, node.creationTime > 0n ? node.creationTime : node.lastWriteTime, true);
  fields.set(EXTRA_FIELD_NTFS, data);
  return fields;
}

/**
 * A date as a FILETIME (0 for an invalid date).
 *
 * @example
 * ```ts ignore
 * dateToFiletime(new Date(0)); // 116444736000000000n
 * ```
 */
export function dateToFiletime(date: Date): bigint {
  const ms = date.getTime();
  return Number.isFinite(ms) ? BigInt(ms) * TICKS_PER_MILLISECOND + EPOCH_DIFFERENCE_TICKS : 0n;
}

/**
 * A FILETIME as a date, rounded down to the millisecond.
 *
 * @example
 * ```ts ignore
 * filetimeToDate(116444736000000000n); // 1970-01-01T00:00:00.000Z
 * ```
 */
export function filetimeToDate(filetime: bigint): Date {
  const ticks = filetime - EPOCH_DIFFERENCE_TICKS;
  const ms = ticks / TICKS_PER_MILLISECOND - (ticks % TICKS_PER_MILLISECOND < 0n ? 1n : 0n);
  return new Date(Number(ms));
}
