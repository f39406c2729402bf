/**
 * Flattens an image's dentry tree into host-ready entries: safe relative paths, kinds, streams
 * and hard-link groups. Unsafe names are dropped with their subtree and counted.
 */

import { FileAttribute } from "../format/constants.ts";
import {
  type DentryNode,
  type DentryStreams,
  dentryStreams,
  isDirectory,
  walkTree,
} from "../format/metadata.ts";
import { readUnixData, type UnixData } from "../format/tagged_items.ts";
import { unsafeNameReason } from "./safe_path.ts";

/** What an entry becomes on the host. */
export type EntryKind = "directory" | "file" | "link" | "other-reparse" | "encrypted" | "special";

/** One dentry with its path relative to the image root ("" for the root). */
export interface ImageEntry {
  /** Path from the image root, "/"-separated, no leading slash ("" for the root). */
  readonly path: string;
  /** Depth below the root (0 for the root). */
  readonly depth: number;
  /** The dentry. */
  readonly node: DentryNode;
  /** What it becomes. */
  readonly kind: EntryKind;
  /** Its streams. */
  readonly streams: DentryStreams;
  /** UNIX data, if the image carries it. */
  readonly unix: UnixData | undefined;
  /** Hard-link key: entries with the same key are names of one file (null = single name). */
  readonly inodeKey: string | null;
}

/** The result of {@linkcode flattenImage}. */
export interface FlatImage {
  /** Entries in pre-order (parents before children). */
  readonly entries: ImageEntry[];
  /** Paths of entries dropped for unsafe names, with the reason. */
  readonly unsafe: { path: string; reason: string }[];
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Walks the tree (iteratively) and classifies every entry.
 *
 * @example
 * ```ts ignore
 * const { entries } = flattenImage(image.metadata.root);
 * ```
 */
export function flattenImage(root: DentryNode): FlatImage {
  const unsafe: { path: string; reason: string }[] = [];
  const accept = (child: DentryNode, parentPath: string) => {
    const reason = unsafeNameReason(child.name);
    if (reason) unsafe.push({ path: `${parentPath}/${child.name}`, reason });
    return reason === null;
  };
  const entries: ImageEntry[] = [];
  for (const { node, path, depth } of walkTree(root, accept)) {
    entries.push(describe(node, path, depth));
  }
  return { entries, unsafe };
}

function describe(node: DentryNode, path: string, depth: number): ImageEntry {
  const streams = dentryStreams(node);
  const unix = node.taggedItems.length ? readUnixData(node.taggedItems) : undefined;
  const kind = kindOf(node, unix);
  const group = node.hardLinkGroup;
  const inodeKey = kind === "file" && group !== 0n
    ? `${group}:${streams.data ? streams.data.join(",") : ""}`
    : null;
  return { path, depth, node, kind, streams, unix, inodeKey };
}

function kindOf(node: DentryNode, unix: UnixData | undefined): EntryKind {
  const attributes = node.attributes;
  if (isDirectory(node)) return "directory";
  if (attributes & FileAttribute.REPARSE_POINT) {
    return node.reparseTag === 0xa000000c || node.reparseTag === 0xa0000003
      ? "link"
      : "other-reparse";
  }
  if (attributes & FileAttribute.ENCRYPTED) return "encrypted";
  if (unix) {
    const type = unix.mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK && type !== 0) return "special";
  }
  return "file";
}
