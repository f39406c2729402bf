/**
 * The per-image part of a write: each image's metadata resource bytes, the change in blob
 * reference counts it brings, and its IMAGE element of the XML (a new one, one copied from a
 * source WIM, or the replaced image's, refreshed) in wimlib's element order.
 */

import type { WimXml } from "../format/xml_info.ts";
import { imageStats } from "./image_stats.ts";
import type { NewNode } from "./new_image.ts";
import { metadataFor, type StreamHashes } from "./new_metadata.ts";
import type { ImageToWrite } from "./write_options.ts";

/** A serialized metadata resource and the 1-based image it replaces, if any. */
export interface ImageMetadata {
  readonly bytes: Uint8Array;
  readonly replaces: number | undefined;
}

/** The images of a write, ready for their metadata resources to be written. */
export interface PreparedImages {
  /** One metadata resource per image, in order. */
  readonly metadata: ImageMetadata[];
  /** Change of reference count per blob hash (hex). */
  readonly refDelta: Map<string, number>;
  /** 1-based indexes of the images written. */
  readonly indexes: number[];
  /** Images in the WIM afterwards. */
  readonly imageCount: number;
  /** Boot index afterwards (possibly past `imageCount`, which the caller clears). */
  readonly bootIndex: number;
}

/**
 * Serializes the metadata of `images` (with `hashesOf` naming each node's streams) and adds or
 * refreshes their IMAGE elements in `xml`. With `boot`, the last image becomes the boot image.
 *
 * @example
 * ```ts ignore
 * const prepared = prepareImages(images, xml, plan.hashesOf, { imageCount: 0, bootIndex: 0 }, false);
 * ```
 */
export function prepareImages(
  images: readonly ImageToWrite[],
  xml: WimXml,
  hashesOf: (node: NewNode) => StreamHashes,
  before: { readonly imageCount: number; readonly bootIndex: number },
  boot: boolean,
): PreparedImages {
  const refDelta = new Map<string, number>();
  const metadata: ImageMetadata[] = [];
  const indexes: number[] = [];
  let { imageCount, bootIndex } = before;
  for (const [i, image] of images.entries()) {
    const { bytes, references } = metadataFor(
      image.root,
      hashesOf,
      image.securityDescriptors ?? [],
    );
    for (const hash of references) refDelta.set(hash, (refDelta.get(hash) ?? 0) + 1);
    for (const hash of image.replacedReferences ?? []) {
      refDelta.set(hash, (refDelta.get(hash) ?? 0) - 1);
    }
    let index: number;
    if (image.replaces !== undefined) {
      index = image.replaces;
    } else {
      index = image.xmlFrom
        ? xml.importImage(image.xmlFrom.xml, image.xmlFrom.index)
        : xml.addImage({ name: image.name, description: "" });
      imageCount++;
    }
    metadata.push({ bytes, replaces: image.replaces });
    indexes.push(index);
    fillImageXml(xml, index, image);
    if (boot && i === images.length - 1) bootIndex = index;
  }
  return { metadata, refDelta, indexes, imageCount, bootIndex };
}

/** Fills (or refreshes) an IMAGE element in wimlib's element order. */
function fillImageXml(xml: WimXml, index: number, image: ImageToWrite): void {
  const stats = imageStats(image.root);
  const now = BigInt(Date.now()) * 10000n + 116444736000000000n;
  const copied = image.xmlFrom !== undefined || image.replaces !== undefined;
  if (image.name) xml.setImageProperty(index, "NAME", image.name);
  xml.setImageProperty(index, "DIRCOUNT", String(stats.dirCount));
  xml.setImageProperty(index, "FILECOUNT", String(stats.fileCount));
  xml.setImageProperty(index, "TOTALBYTES", String(stats.totalBytes));
  xml.setImageProperty(index, "HARDLINKBYTES", String(stats.hardLinkBytes));
  if (!copied) xml.setImageTime(index, "CREATIONTIME", now);
  if (!copied || image.replaces !== undefined) xml.setImageTime(index, "LASTMODIFICATIONTIME", now);
  const seen = new Set<string>();
  for (const [path, value] of image.properties ?? []) {
    if (path === "FLAGS" && image.flags) continue;
    if (seen.has(path)) xml.appendImageProperty(index, path, value);
    else xml.setImageProperty(index, path, value);
    seen.add(path);
  }
  if (image.flags) xml.setImageProperty(index, "FLAGS", image.flags);
  if (image.description) xml.setImageProperty(index, "DESCRIPTION", image.description);
}
