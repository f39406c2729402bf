/**
 * What a view says about one node of an image tree: its kind, times in milliseconds, POSIX mode
 * from UNIX data, and symbolic links decoded from (and encoded to) reparse data the way apply
 * and capture do (wim-format.md §8.3, §8.4).
 */

import { FileAttribute } from "../format/constants.ts";
import { encodePosixSymlink, parseLinkReparseData } from "../format/reparse.ts";
import { readUnixData } from "../format/tagged_items.ts";
import type { NewNode, NewReparsePoint } from "../wim/new_image.ts";
import { linkTargetForHost } from "../fs/safe_path.ts";
import type { ViewKind } from "./types.ts";

/** FILETIME of 1970-01-01 (100 ns ticks since 1601). */
const UNIX_EPOCH_FILETIME = 116444736000000000n;
/** Ticks per millisecond. */
const TICKS_PER_MS = 10000n;

/**
 * Milliseconds since 1970 (with a fraction) of a FILETIME.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filetimeToMs } from "./node_info.ts";
 * assert.ok(filetimeToMs(116444736000000000n + 15n) === 0.0015);
 * ```
 */
export function filetimeToMs(filetime: bigint): number {
  const ticks = filetime - UNIX_EPOCH_FILETIME;
  const whole = ticks / TICKS_PER_MS;
  const rest = ticks % TICKS_PER_MS;
  return Number(whole) + Number(rest) / 10000;
}

/**
 * The FILETIME of a time in milliseconds since 1970.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { msToFiletime } from "./node_info.ts";
 * assert.ok(msToFiletime(1) === 116444736000010000n);
 * ```
 */
export function msToFiletime(ms: number): bigint {
  if (!Number.isFinite(ms)) throw new RangeError(`invalid time ${ms}`);
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 10000);
  return BigInt(whole) * TICKS_PER_MS + BigInt(fraction) + UNIX_EPOCH_FILETIME;
}

/** The current time as a FILETIME. */
export function nowFiletime(): bigint {
  return msToFiletime(Date.now());
}

/** Dentry reparse flag: the absolute target was not fixed to the capture root (wim-format.md). */
const REPARSE_NOT_FIXED = 1;

/** True for a directory that is not a reparse point (a junction is not walked into). */
export function isDirectoryNode(node: NewNode): boolean {
  return (node.attributes & FileAttribute.DIRECTORY) !== 0 &&
    (node.attributes & FileAttribute.REPARSE_POINT) === 0;
}

/**
 * The target of a symlink or junction node as a relative path or an absolute one, or undefined.
 * Absolute targets stored fixed (captured with reparse-point fix-ups) are rebased onto `linkRoot`
 * when it is given (a mount point), as apply rebases them onto its target; otherwise they are
 * image paths ("/dir/a").
 */
export function linkTargetOf(node: NewNode, linkRoot?: string): string | undefined {
  if (!node.reparse || (node.attributes & FileAttribute.REPARSE_POINT) === 0) return undefined;
  let link;
  try {
    link = parseLinkReparseData(node.reparse.tag, node.reparse.data);
  } catch {
    return undefined;
  }
  if (!link) return undefined;
  const fixed = linkRoot !== undefined && (node.reparse.flags & REPARSE_NOT_FIXED) === 0;
  return linkTargetForHost(link.substituteName, link.relative, fixed, linkRoot ?? "/");
}

/** What a node is. */
export function kindOf(node: NewNode): ViewKind {
  if (isDirectoryNode(node)) return "directory";
  if (linkTargetOf(node) !== undefined) return "symlink";
  return "file";
}

/** POSIX mode bits from the node's UNIX data, if any. */
export function modeOf(node: NewNode): number | undefined {
  if (node.unix) return node.unix.mode;
  if (!node.extraItems) return undefined;
  try {
    return readUnixData(node.extraItems)?.mode;
  } catch {
    return undefined;
  }
}

/**
 * Reparse data for a symlink to `target`, encoded as capture encodes a POSIX link: a relative
 * target as a relative link (NOT_FIXED), an absolute image path as `\??\C:\...` fixed to the image
 * root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { symlinkReparse } from "./node_info.ts";
 * assert.ok(symlinkReparse("../a").flags === 1);
 * ```
 */
export function symlinkReparse(target: string): NewReparsePoint {
  return encodePosixSymlink(target, "");
}
