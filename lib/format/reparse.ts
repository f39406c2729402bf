/**
 * Symlink and junction reparse data (wim-format.md §8.3): the Windows reparse buffer without its
 * 8-byte header. Symlink: u16 substitute name offset, u16 substitute name bytes, u16 print name
 * offset, u16 print name bytes, u32 flags (1 = relative), path buffer. Junction: the same without
 * the flags field. Offsets are relative to the path buffer.
 */

import { WimFormatError } from "../errors.ts";
import { ReparseTag } from "./constants.ts";
import { decodeUtf16, encodeUtf16, viewOf } from "./bytes.ts";

/** SYMLINK_FLAG_RELATIVE. */
const SYMLINK_FLAG_RELATIVE = 1;

/** A decoded symlink or junction. */
export interface LinkReparseData {
  /** The target as Windows stores it, e.g. `\??\C:\dir` or `dir1\file`. */
  readonly substituteName: string;
  /** The target as shown to users. */
  readonly printName: string;
  /** True for a relative symlink. */
  readonly relative: boolean;
}

/**
 * Decodes the reparse data of a symlink or junction; returns null for other tags.
 *
 * @throws {WimFormatError} If the name offsets run past the data.
 *
 * @example
 * ```ts
 * import { parseLinkReparseData, serializeSymlinkReparseData } from "./reparse.ts";
 * import assert from "node:assert/strict";
 * const data = serializeSymlinkReparseData({ substituteName: "a", printName: "a", relative: true });
 * assert.ok(parseLinkReparseData(0xa000000c, data)?.substituteName === "a");
 * ```
 */
export function parseLinkReparseData(tag: number, data: Uint8Array): LinkReparseData | null {
  if (tag !== ReparseTag.SYMLINK && tag !== ReparseTag.MOUNT_POINT) return null;
  const isSymlink = tag === ReparseTag.SYMLINK;
  const bufferStart = isSymlink ? 12 : 8;
  if (data.length < bufferStart) {
    throw new WimFormatError(`reparse data is only ${data.length} bytes`);
  }
  const view = viewOf(data);
  const name = (offset: number, length: number, what: string) => {
    const start = bufferStart + offset;
    if ((length & 1) || start + length > data.length) {
      throw new WimFormatError(`reparse data: the ${what} runs past the data`);
    }
    return decodeUtf16(data.subarray(start, start + length));
  };
  return {
    substituteName: name(view.getUint16(0, true), view.getUint16(2, true), "substitute name"),
    printName: name(view.getUint16(4, true), view.getUint16(6, true), "print name"),
    relative: isSymlink && (view.getUint32(8, true) & SYMLINK_FLAG_RELATIVE) !== 0,
  };
}

/** Encodes symlink reparse data the way wimlib does: substitute name first, each NUL-terminated. */
export function serializeSymlinkReparseData(link: LinkReparseData): Uint8Array {
  const substitute = encodeUtf16(link.substituteName);
  const print = encodeUtf16(link.printName);
  const out = new Uint8Array(12 + substitute.length + 2 + print.length + 2);
  const view = viewOf(out);
  view.setUint16(0, 0, true);
  view.setUint16(2, substitute.length, true);
  view.setUint16(4, substitute.length + 2, true);
  view.setUint16(6, print.length, true);
  view.setUint32(8, link.relative ? SYMLINK_FLAG_RELATIVE : 0, true);
  out.set(substitute, 12);
  out.set(print, 12 + substitute.length + 2);
  return out;
}

/** A symbolic link as a dentry stores it: reparse tag, dentry reparse flags, reparse buffer. */
export interface EncodedSymlink {
  readonly tag: number;
  /** Bit 0 set: NOT_FIXED (the target was not rebased to the capture root). */
  readonly flags: number;
  readonly data: Uint8Array;
}

/**
 * Encodes a POSIX link target as wimlib stores it (wim-format.md §8.4): a relative target as a
 * relative symlink marked NOT_FIXED; an absolute one as `\??\C:\...`. An absolute target under
 * `fixedRoot` (a capture root, "" for "/") is stored relative to it and fixed (flags 0); any other
 * absolute target is stored as it is, NOT_FIXED.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePosixSymlink, parseLinkReparseData } from "./reparse.ts";
 * const link = encodePosixSymlink("/src/tree/dir/a", "/src/tree");
 * assert.equal(link.flags, 0);
 * assert.equal(parseLinkReparseData(link.tag, link.data)?.substituteName, "\\??\\C:\\dir\\a");
 * assert.equal(encodePosixSymlink("../a").flags, 1);
 * ```
 */
export function encodePosixSymlink(target: string, fixedRoot?: string): EncodedSymlink {
  const swap = (text: string) => text.replace(/[\\/]/g, (c) => (c === "/" ? "\\" : "/"));
  if (!target.startsWith("/")) {
    const name = swap(target);
    return {
      tag: ReparseTag.SYMLINK,
      flags: 1,
      data: serializeSymlinkReparseData({ substituteName: name, printName: name, relative: true }),
    };
  }
  const inside = fixedRoot !== undefined &&
    (target === fixedRoot || target.startsWith(fixedRoot + "/"));
  const print = "C:" + swap(inside ? target.slice(fixedRoot.length) : target);
  return {
    tag: ReparseTag.SYMLINK,
    flags: inside ? 0 : 1,
    data: serializeSymlinkReparseData({
      substituteName: "\\??\\" + print,
      printName: print,
      relative: false,
    }),
  };
}
