/**
 * Reads an existing image back as a tree to write ({@linkcode NewNode}): what export, delete,
 * optimize, join and update start from. Contents stay in the source WIM (streamed on demand, with
 * their SHA-1 known and, for non-solid resources, copyable byte for byte); names, times,
 * attributes, short names, security descriptors, named streams, reparse data and tagged items
 * (UNIX data, xattrs) are kept.
 */

import { WimkitError } from "../errors.ts";
import { isAllZero, toHex } from "../format/bytes.ts";
import { type DentryNode, dentryStreams, isDirectory } from "../format/metadata.ts";
import type { BlobInfo } from "./blob_location.ts";
import type { ContentSource, NewNode } from "./new_image.ts";
import type { Wim } from "./wim.ts";

/** An image as a tree to write. */
export interface ImageTree {
  /** The root. */
  readonly root: NewNode;
  /** The image's security descriptors (NewNode.securityId indexes them). */
  readonly securityDescriptors: Uint8Array[];
  /** Hashes of every stream reference in the image (each hard-link name counted). */
  readonly references: string[];
}

/**
 * Converts image `index` of `wim` to a tree whose contents read from `wim`.
 *
 * @throws {WimkitError} If a blob the image uses is missing.
 *
 * @example
 * ```ts ignore
 * const { root } = await readImageTree(wim, 1);
 * await createWim("copy.wim", [{ root, name: "copy" }]);
 * ```
 */
export async function readImageTree(wim: Wim, index: number): Promise<ImageTree> {
  const image = await wim.readImage(index);
  const references: string[] = [];
  const contents = new Map<string, ContentSource>();
  const content = (hash: Uint8Array | null): ContentSource | undefined => {
    if (!hash || isAllZero(hash)) return undefined;
    const hex = toHex(hash);
    references.push(hex);
    let source = contents.get(hex);
    if (!source) {
      const blob = wim.blob(hex);
      if (!blob) throw missing(wim, index, hex);
      source = blobContent(wim, blob);
      contents.set(hex, source);
    }
    return source;
  };
  const convert = async (node: DentryNode): Promise<NewNode> => {
    const streams = dentryStreams(node);
    const out: NewNode = {
      name: node.name,
      attributes: node.attributes,
      creationTime: node.creationTime,
      lastAccessTime: node.lastAccessTime,
      lastWriteTime: node.lastWriteTime,
    };
    const data = content(streams.data);
    if (data) out.content = data;
    if (node.shortName) out.shortName = node.shortName;
    if (node.securityId >= 0) out.securityId = node.securityId;
    if (node.taggedItems.length) out.extraItems = node.taggedItems;
    if (node.hardLinkGroup !== 0n) {
      out.inode = `${node.hardLinkGroup}:${streams.data ? toHex(streams.data) : ""}`;
    }
    if (streams.named.length) {
      out.namedStreams = streams.named.map((s) => ({
        name: s.name,
        content: content(s.hash) ?? null,
      }));
    }
    if (streams.reparse) {
      const reparse = content(streams.reparse)!;
      const blob = wim.blob(reparse.knownHash!)!;
      out.reparse = {
        tag: node.reparseTag,
        flags: node.reparseFlags,
        data: await wim.readBlob(blob),
      };
    }
    if (isDirectory(node)) out.children = await Promise.all(node.children.map(convert));
    return out;
  };
  const root = await convert(image.metadata.root);
  return { root, securityDescriptors: image.metadata.security.descriptors, references };
}

/** A content source that streams a blob of `wim`, copyable when its resource is not solid. */
export function blobContent(wim: Wim, blob: BlobInfo): ContentSource {
  const location = blob.location;
  return {
    size: blob.size,
    label: `blob ${blob.hashHex} of "${wim.path}"`,
    knownHash: blob.hashHex,
    ...(location.kind === "resource"
      ? {
        stored: {
          source: location.source,
          resource: location.resource,
          codec: location.codec,
          chunkSize: location.chunkSize,
        },
      }
      : {}),
    async *read() {
      for await (const piece of wim.readBlobs([blob])) yield piece.data;
    },
  };
}

function missing(wim: Wim, index: number, hash: string) {
  return new WimkitError(
    `Cannot read image ${index} of "${wim.path}": blob ${hash} is missing`,
    "format",
    {
      file: wim.path,
      image: index,
    },
  );
}
