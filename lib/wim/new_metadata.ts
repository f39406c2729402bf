/** Turns a tree being written into a metadata resource once every stream's hash is known. */

import { type DentryToWrite, serializeMetadata } from "../format/metadata_writer.ts";
import { serializeTaggedItems, unixDataItem } from "../format/tagged_items.ts";
import type { ContentSource, NewNode } from "./new_image.ts";

/** A stream of the tree with its SHA-1 (hex) once written or found. */
export interface HashedStream {
  readonly source: ContentSource;
  readonly hash: string | null;
}

/**
 * Serializes the tree; returns the metadata bytes and one hash per stream reference (each name
 * of a hard-linked file counts, as blob reference counts require).
 *
 * @example
 * ```ts ignore
 * const { bytes, references } = metadataFor(root, streams, reparse);
 * ```
 */
export function metadataFor(
  root: NewNode,
  streams: Map<NewNode, HashedStream>,
  reparse: Map<NewNode, HashedStream>,
): { bytes: Uint8Array; references: string[] } {
  const references: string[] = [];
  const groups = new Map<string, bigint>();
  const counts = new Map<string, number>();
  countInodes(root, counts);
  const convert = (node: NewNode): DentryToWrite => {
    const data = streams.get(node)?.hash ?? null;
    const reparseHash = reparse.get(node)?.hash ?? null;
    if (data) references.push(data);
    if (reparseHash) references.push(reparseHash);
    let group = 0n;
    if (node.inode !== undefined && (counts.get(node.inode) ?? 0) > 1 && !node.reparse) {
      group = groups.get(node.inode) ?? BigInt(groups.size + 1);
      groups.set(node.inode, group);
    }
    const items = node.unix ? serializeTaggedItems([unixDataItem(node.unix)]) : new Uint8Array(0);
    const taggedItems = node.extraItems?.length ? concat(items, node.extraItems) : items;
    return {
      name: node.name,
      attributes: node.attributes,
      creationTime: node.creationTime,
      lastAccessTime: node.lastAccessTime,
      lastWriteTime: node.lastWriteTime,
      dataHash: data ? Uint8Array.fromHex(data) : null,
      reparseHash: reparseHash ? Uint8Array.fromHex(reparseHash) : null,
      ...(node.reparse ? { reparseTag: node.reparse.tag, reparseFlags: node.reparse.flags } : {}),
      hardLinkGroup: group,
      taggedItems,
      children: node.children?.map(convert) ?? [],
    };
  };
  const tree = convert(root);
  return { bytes: serializeMetadata([], tree), references };
}

function countInodes(root: NewNode, counts: Map<string, number>): void {
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.inode !== undefined) counts.set(node.inode, (counts.get(node.inode) ?? 0) + 1);
    if (node.children) stack.push(...node.children);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
