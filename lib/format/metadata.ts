/**
 * A whole metadata resource: security data, then the dentry tree (wim-format.md §7, §7.3).
 *
 * The tree is read iteratively with a depth limit and a set of visited child lists, so cyclic or
 * shared lists are a {@linkcode WimFormatError}, never a hang. Entries wimlib also ignores are
 * dropped and counted: empty names, ".", "..", names with NUL, exact duplicates in one directory.
 */

import { WimFormatError } from "../errors.ts";
import { FileAttribute, Limits } from "./constants.ts";
import { isAllZero } from "./bytes.ts";
import { type DentryRecord, parseDentry } from "./dentry.ts";
import { parseSecurityData, type SecurityData } from "./security.ts";

/** A dentry with its children (empty for non-directories). */
export interface DentryNode extends DentryRecord {
  /** Children in stored order. */
  readonly children: DentryNode[];
}

/** A parsed metadata resource. */
export interface ImageMetadata {
  /** Security descriptors. */
  readonly security: SecurityData;
  /** The root directory. */
  readonly root: DentryNode;
  /** Dentries dropped because their names are unusable (empty, ".", "..", NUL, duplicates). */
  readonly droppedNames: number;
}

/** The streams of a dentry, assigned by wimlib's reader rules (§7.4). */
export interface DentryStreams {
  /** Hash of the unnamed data stream, or null when empty or absent. */
  readonly data: Uint8Array | null;
  /** Hash of the reparse data, or null (only with REPARSE_POINT). */
  readonly reparse: Uint8Array | null;
  /** Named data streams (alternate data streams). */
  readonly named: { readonly name: string; readonly hash: Uint8Array | null }[];
}

/** True when the dentry is a directory that can have children (not a directory reparse point). */
export function isDirectory(dentry: Pick<DentryRecord, "attributes">): boolean {
  return (dentry.attributes & FileAttribute.DIRECTORY) !== 0 &&
    (dentry.attributes & FileAttribute.REPARSE_POINT) === 0;
}

/**
 * Decodes an uncompressed metadata resource into a dentry tree.
 *
 * @throws {WimFormatError} If a structure is invalid, the tree is cyclic or too deep.
 *
 * @example
 * ```ts
 * import { parseMetadata } from "./metadata.ts";
 * import assert from "node:assert/strict";
 * // security data (8 bytes), root dentry of 102 bytes rounded to 104, end marker
 * const bytes = new Uint8Array(8 + 104 + 8);
 * bytes[0] = 8; bytes[8] = 104; bytes[16] = 0x10;
 * assert.ok(parseMetadata(bytes).root.children.length === 0);
 * ```
 */
export function parseMetadata(bytes: Uint8Array): ImageMetadata {
  const security = parseSecurityData(bytes);
  const first = parseDentry(bytes, security.length);
  if (!first.dentry) throw new WimFormatError("metadata resource has no root dentry");
  if (!isDirectory(first.dentry)) throw new WimFormatError("root dentry is not a directory");
  const root: DentryNode = {
    ...first.dentry,
    name: "",
    nameBytes: new Uint8Array(0),
    children: [],
  };
  const visitedLists = new Set<number>();
  const stack: { node: DentryNode; depth: number }[] = [{ node: root, depth: 0 }];
  let droppedNames = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isDirectory(node) || node.subdirOffset === 0) continue;
    if (depth >= Limits.MAX_DENTRY_DEPTH) {
      throw new WimFormatError(`directory tree is deeper than ${Limits.MAX_DENTRY_DEPTH} levels`);
    }
    if (visitedLists.has(node.subdirOffset)) {
      throw new WimFormatError(
        `directory "${node.name}" reuses the child list at offset ${node.subdirOffset} (cyclic tree)`,
      );
    }
    visitedLists.add(node.subdirOffset);
    const names = new Set<string>();
    let offset = node.subdirOffset;
    for (;;) {
      const parsed = parseDentry(bytes, offset);
      offset = parsed.next;
      const child = parsed.dentry;
      if (!child) break;
      if (!isUsableName(child) || names.has(child.name)) {
        droppedNames++;
        continue;
      }
      names.add(child.name);
      const childNode: DentryNode = { ...child, children: [] };
      node.children.push(childNode);
      stack.push({ node: childNode, depth: depth + 1 });
    }
  }
  return { security, root, droppedNames };
}

function isUsableName(dentry: DentryRecord): boolean {
  const name = dentry.name;
  return name.length > 0 && name !== "." && name !== ".." && !name.includes("\0");
}

/**
 * Assigns a dentry's main hash and stream entries to reparse data, unnamed data and named streams.
 *
 * @example
 * ```ts
 * import { dentryStreams } from "./metadata.ts";
 * import assert from "node:assert/strict";
 * const hash = new Uint8Array(20).fill(1);
 * const streams = dentryStreams({ attributes: 0x80, mainHash: hash, streams: [] });
 * assert.ok(streams.data === hash && streams.reparse === null);
 * ```
 */
export function dentryStreams(
  dentry: Pick<DentryRecord, "attributes" | "mainHash" | "streams">,
): DentryStreams {
  const unnamed: (Uint8Array | null)[] = [];
  if (!isAllZero(dentry.mainHash)) unnamed.push(dentry.mainHash);
  const named: { name: string; hash: Uint8Array | null }[] = [];
  for (const stream of dentry.streams) {
    const hash = isAllZero(stream.hash) ? null : stream.hash;
    if (stream.name) named.push({ name: stream.name, hash });
    else unnamed.push(hash);
  }
  const isReparse = (dentry.attributes & FileAttribute.REPARSE_POINT) !== 0;
  const reparse = isReparse ? unnamed.shift() ?? null : null;
  const data = unnamed.shift() ?? null;
  return { data, reparse, named };
}

/** A dentry reached by {@linkcode walkTree}. */
export interface WalkedDentry {
  /** The dentry. */
  readonly node: DentryNode;
  /** Path from the root, "/"-separated, "" for the root. */
  readonly path: string;
  /** Depth below the root. */
  readonly depth: number;
}

/**
 * Visits a tree in pre-order (parents first, children in stored order), iteratively.
 *
 * @param accept Called for each child; returning false skips the child and its subtree.
 *
 * @example
 * ```ts
 * import { parseMetadata, walkTree } from "./metadata.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(120);
 * bytes[0] = 8; bytes[8] = 104; bytes[16] = 0x10;
 * const paths = [...walkTree(parseMetadata(bytes).root)].map((d) => d.path);
 * assert.ok(paths.length === 1 && paths[0] === "");
 * ```
 */
export function* walkTree(
  root: DentryNode,
  accept: (child: DentryNode, parentPath: string) => boolean = () => true,
): Generator<WalkedDentry> {
  const stack: WalkedDentry[] = [{ node: root, path: "", depth: 0 }];
  while (stack.length > 0) {
    const current = stack.pop()!;
    yield current;
    const children = current.node.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      if (!accept(child, current.path)) continue;
      const path = current.path === "" ? child.name : `${current.path}/${child.name}`;
      stack.push({ node: child, path, depth: current.depth + 1 });
    }
  }
}

/**
 * Finds the dentry at `path` ("/"-separated, leading "/" optional; "" or "/" is the root).
 *
 * @example
 * ```ts ignore
 * const node = findDentry(image.metadata.root, "/Windows/System32");
 * ```
 */
export function findDentry(root: DentryNode, path: string): DentryNode | undefined {
  let node: DentryNode | undefined = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    node = node.children.find((child) => child.name === part);
    if (!node) return undefined;
  }
  return node;
}
