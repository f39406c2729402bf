/** Turns a tree being written into a metadata resource once every stream's hash is known. */

import { type DentryToWrite, serializeMetadata } from "../format/metadata_writer.ts";
import { serializeTaggedItems, unixDataItem } from "../format/tagged_items.ts";
import type { NewNode } from "./new_image.ts";

/** The SHA-1s (hex) of a node's streams; null for empty or absent ones. */
export interface StreamHashes {
  readonly data: string | null;
  readonly reparse: string | null;
  readonly named: readonly (string | null)[];
}

/**
 * Serializes the tree; returns the metadata bytes and one hash per stream reference (each name
 * of a hard-linked file counts, as blob reference counts require).
 *
 * @example
 * ```ts ignore
 * const { bytes, references } = metadataFor(root, (node) => hashesOf(node), []);
 * ```
 */
export function metadataFor(
  root: NewNode,
  resolve: (node: NewNode) => StreamHashes,
  securityDescriptors: readonly Uint8Array[],
): { bytes: Uint8Array; references: string[] } {
  const references: string[] = [];
  const groups = new Map<string, bigint>();
  const counts = new Map<string, number>();
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.inode !== undefined) counts.set(node.inode, (counts.get(node.inode) ?? 0) + 1);
    if (node.children) stack.push(...node.children);
  }
  const hex = (hash: string | null) => (hash ? Uint8Array.fromHex(hash) : null);
  const convert = (node: NewNode): DentryToWrite => {
    const hashes = resolve(node);
    for (const hash of [hashes.data, hashes.reparse, ...hashes.named]) {
      if (hash) references.push(hash);
    }
    let group = 0n;
    if (node.inode !== undefined && (counts.get(node.inode) ?? 0) > 1 && !node.reparse) {
      group = groups.get(node.inode) ?? BigInt(groups.size + 1);
      groups.set(node.inode, group);
    }
    const items = node.unix ? serializeTaggedItems([unixDataItem(node.unix)]) : new Uint8Array(0);
    const taggedItems = node.extraItems?.length ? concat(items, node.extraItems) : items;
    return {
      name: node.name,
      ...(node.shortName ? { shortName: node.shortName } : {}),
      attributes: node.attributes,
      securityId: node.securityId ?? -1,
      creationTime: node.creationTime,
      lastAccessTime: node.lastAccessTime,
      lastWriteTime: node.lastWriteTime,
      dataHash: hex(hashes.data),
      reparseHash: hex(hashes.reparse),
      ...(node.reparse ? { reparseTag: node.reparse.tag, reparseFlags: node.reparse.flags } : {}),
      namedStreams: (node.namedStreams ?? []).map((s, i) => ({
        name: s.name,
        hash: hex(hashes.named[i] ?? null),
      })),
      hardLinkGroup: group,
      taggedItems,
      children: node.children?.map(convert) ?? [],
    };
  };
  const tree = convert(root);
  return { bytes: serializeMetadata(securityDescriptors, tree), references };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
