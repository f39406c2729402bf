/**
 * Tagged metadata items after a dentry's names (wim-format.md §7.5): u32 tag, u32 data length,
 * data padded to 8 bytes. wimkit reads wimlib's UNIX data item and keeps the rest as raw bytes.
 */

import { ItemTag } from "./constants.ts";
import { viewOf } from "./bytes.ts";

/** One tagged item. */
export interface TaggedItem {
  /** The item's tag (`ItemTag`). */
  readonly tag: number;
  /** The item's data. */
  readonly data: Uint8Array;
}

/** wimlib's UNIX data: owner, group, mode (with type bits) and device number. */
export interface UnixData {
  /** Owner user id. */
  readonly uid: number;
  /** Owner group id. */
  readonly gid: number;
  /** `st_mode`, type bits included. */
  readonly mode: number;
  /** `st_rdev` (low 32 bits). */
  readonly rdev: number;
}

/** Size of wimlib's UNIX data item's data. */
const UNIX_DATA_SIZE = 16;

/**
 * Splits a raw tagged-item area into items; a truncated trailing item is ignored.
 *
 * @example
 * ```ts
 * import { parseTaggedItems } from "./tagged_items.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseTaggedItems(new Uint8Array(0)).length === 0);
 * ```
 */
export function parseTaggedItems(area: Uint8Array): TaggedItem[] {
  const items: TaggedItem[] = [];
  const view = viewOf(area);
  let pos = 0;
  while (pos + 8 <= area.length) {
    const tag = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    if (pos + 8 + length > area.length) break;
    items.push({ tag, data: area.subarray(pos + 8, pos + 8 + length) });
    pos += (8 + length + 7) & ~7;
  }
  return items;
}

/** Encodes items into a tagged-item area (each padded to 8 bytes). */
export function serializeTaggedItems(items: readonly TaggedItem[]): Uint8Array {
  let size = 0;
  for (const item of items) size += (8 + item.data.length + 7) & ~7;
  const out = new Uint8Array(size);
  const view = viewOf(out);
  let pos = 0;
  for (const item of items) {
    view.setUint32(pos, item.tag, true);
    view.setUint32(pos + 4, item.data.length, true);
    out.set(item.data, pos + 8);
    pos += (8 + item.data.length + 7) & ~7;
  }
  return out;
}

/** Reads wimlib's UNIX data from a tagged-item area, if present. */
export function readUnixData(area: Uint8Array): UnixData | undefined {
  const item = parseTaggedItems(area).find((i) =>
    i.tag === ItemTag.UNIX_DATA && i.data.length >= UNIX_DATA_SIZE
  );
  if (!item) return undefined;
  const view = viewOf(item.data);
  return {
    uid: view.getUint32(0, true),
    gid: view.getUint32(4, true),
    mode: view.getUint32(8, true),
    rdev: view.getUint32(12, true),
  };
}

/** Encodes UNIX data as a tagged item. */
export function unixDataItem(data: UnixData): TaggedItem {
  const bytes = new Uint8Array(UNIX_DATA_SIZE);
  const view = viewOf(bytes);
  view.setUint32(0, data.uid, true);
  view.setUint32(4, data.gid, true);
  view.setUint32(8, data.mode, true);
  view.setUint32(12, data.rdev, true);
  return { tag: ItemTag.UNIX_DATA, data: bytes };
}
