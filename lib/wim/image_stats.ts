/** Counts for an image's XML entry (wim-format.md §10.1), computed from the tree being written. */

import { FileAttribute } from "../format/constants.ts";
import type { NewNode } from "./new_image.ts";

/** DIRCOUNT, FILECOUNT, TOTALBYTES and HARDLINKBYTES of an image. */
export interface ImageStats {
  readonly dirCount: number;
  readonly fileCount: number;
  readonly totalBytes: number;
  readonly hardLinkBytes: number;
}

/**
 * Counts directories (the root included; directory reparse points count as files), files (each
 * hard-link name), bytes over every name, and bytes of extra hard-link names.
 *
 * @example
 * ```ts
 * import { imageStats } from "./image_stats.ts";
 * import assert from "node:assert/strict";
 * const root = { name: "", attributes: 0x10, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, children: [] };
 * assert.ok(imageStats(root).dirCount === 1);
 * ```
 */
export function imageStats(root: NewNode): ImageStats {
  let dirCount = 0;
  let fileCount = 0;
  let totalBytes = 0;
  let hardLinkBytes = 0;
  const seenInodes = new Set<string>();
  const stack: NewNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const isDirectory = (node.attributes & FileAttribute.DIRECTORY) !== 0 &&
      (node.attributes & FileAttribute.REPARSE_POINT) === 0;
    if (isDirectory) dirCount++;
    else fileCount++;
    const bytes = (node.content?.size ?? 0) + (node.reparse?.data.length ?? 0);
    totalBytes += bytes;
    if (node.inode !== undefined) {
      if (seenInodes.has(node.inode)) hardLinkBytes += bytes;
      else seenInodes.add(node.inode);
    }
    if (node.children) stack.push(...node.children);
  }
  return { dirCount, fileCount, totalBytes, hardLinkBytes };
}
