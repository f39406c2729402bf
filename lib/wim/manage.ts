/**
 * Image management on whole WIMs: export images to a new or existing WIM, delete images,
 * optimize (rebuild without unused data) and join a split set. Rebuilds read the images back as
 * trees (contents stay in the source and are copied byte for byte when the compression matches)
 * and write a new file that replaces the old one atomically, keeping its GUID, boot image and
 * integrity table.
 */

import { WimkitError } from "../errors.ts";
import type { CompressionType } from "../codecs/codec.ts";
import { readImageTree } from "./image_source.ts";
import {
  appendToWim,
  createWim,
  type ImageToWrite,
  type WriteOptions,
  type WriteReport,
} from "./writer.ts";
import { Wim } from "./wim.ts";

/** Options for {@linkcode exportImages}. */
export interface ExportOptions extends WriteOptions {
  /** New NAME, when exporting one image. */
  name?: string;
  /** New DESCRIPTION, when exporting one image. */
  description?: string;
}

/**
 * Exports images of `source` into `destination`: appended when it exists (in its compression),
 * else a new WIM (in `options.compression`, default the source's).
 *
 * @throws {WimkitError} If an image name would repeat in the destination.
 *
 * @example
 * ```ts ignore
 * await using wim = await Wim.open("install.esd");
 * await exportImages(wim, [1], "install.wim", { compression: "lzx" });
 * ```
 */
export async function exportImages(
  source: Wim,
  indexes: readonly number[],
  destination: string,
  options: ExportOptions = {},
): Promise<WriteReport> {
  const images = await imagesToExport(source, indexes, options);
  const exists = await Deno.lstat(destination).then((s) => s.isFile, () => false);
  if (exists) {
    await using dest = await Wim.open(destination);
    const names = new Set(dest.images().map((i) => i.name));
    const clash = images.find((image) => image.name && names.has(image.name));
    if (clash) {
      throw new WimkitError(
        `Cannot export to "${destination}": it already has an image named "${clash.name}"`,
        "usage",
        {
          file: destination,
        },
      );
    }
    dest.close();
    return await appendToWim(destination, images, options);
  }
  return await createWim(destination, images, exportWriteOptions(source, options));
}

/**
 * The images of `source` at `indexes` as the writer takes them, with their XML (and the new
 * NAME/DESCRIPTION of a single exported image).
 */
export async function imagesToExport(
  source: Wim,
  indexes: readonly number[],
  options: Pick<ExportOptions, "name" | "description"> = {},
): Promise<ImageToWrite[]> {
  const images: ImageToWrite[] = [];
  for (const index of indexes) {
    const tree = await readImageTree(source, index);
    const info = source.images()[index - 1]!;
    images.push({
      root: tree.root,
      name: indexes.length === 1 && options.name !== undefined ? options.name : info.name,
      ...(indexes.length === 1 && options.description !== undefined
        ? { description: options.description }
        : {}),
      securityDescriptors: tree.securityDescriptors,
      xmlFrom: { xml: source.xml, index },
    });
  }
  return images;
}

/** Write options of an export into a new WIM: the source's compression unless told otherwise. */
export function exportWriteOptions(source: Wim, options: WriteOptions): WriteOptions {
  const compression = options.compression ?? source.compression;
  return {
    ...options,
    compression,
    ...(compression === source.compression && options.chunkSize === undefined && source.chunkSize
      ? { chunkSize: source.chunkSize }
      : {}),
    ...(options.solid === undefined && !options.pipable && isSolid(source) &&
        compression === "lzms"
      ? { solid: true }
      : {}),
  };
}

/** True when the WIM keeps file data in solid resources (an ESD). */
function isSolid(wim: Wim): boolean {
  return wim.blobs().some((blob) => blob.location.kind === "solid");
}

/** Rebuilds `wim` at `path` with the images `keep`, keeping GUID, boot image and integrity table. */
async function rebuild(
  wim: Wim,
  path: string,
  keep: readonly number[],
  options: WriteOptions,
): Promise<WriteReport> {
  const images: ImageToWrite[] = [];
  for (const index of keep) {
    const tree = await readImageTree(wim, index);
    images.push({
      root: tree.root,
      name: "",
      securityDescriptors: tree.securityDescriptors,
      xmlFrom: { xml: wim.xml, index },
    });
  }
  const compression: CompressionType = options.compression ?? wim.compression;
  const boot = wim.bootIndex === 0 ? 0 : keep.indexOf(wim.bootIndex) + 1;
  return await createWim(path, images, {
    ...options,
    compression,
    ...(compression === wim.compression && wim.chunkSize ? { chunkSize: wim.chunkSize } : {}),
    ...(options.solid === undefined && isSolid(wim) && compression === "lzms"
      ? { solid: true }
      : {}),
    guid: wim.header.guid,
    bootIndex: boot,
    check: options.check ?? wim.header.integrity.sizeInWim > 0,
    rpfix: (wim.header.flags & 0x80) !== 0,
    // A pipable WIM stays pipable when rebuilt (as wimlib does).
    ...(wim.header.pipable && !options.solid ? { pipable: true } : {}),
  });
}

/**
 * Deletes image `index` (1-based) or every image ("all") from the WIM at `path`, dropping data no
 * remaining image uses; the file is rebuilt and replaced atomically.
 *
 * @example
 * ```ts ignore
 * await deleteImages("multi.wim", 2);
 * ```
 */
export async function deleteImages(
  path: string,
  index: number | "all",
  options: WriteOptions = {},
): Promise<WriteReport> {
  await using wim = await Wim.open(path);
  const all = wim.images().map((i) => i.index);
  if (index !== "all") wim.resolveImage(index);
  const keep = index === "all" ? [] : all.filter((i) => i !== index);
  return await rebuild(wim, path, keep, options);
}

/**
 * Rebuilds the WIM at `path` without unreferenced or duplicate data (and, with `recompress` or a
 * new `compression`, compresses everything again).
 *
 * @example
 * ```ts ignore
 * await optimizeWim("install.wim", { recompress: true });
 * ```
 */
export async function optimizeWim(path: string, options: WriteOptions = {}): Promise<WriteReport> {
  await using wim = await Wim.open(path);
  return await rebuild(wim, path, wim.images().map((i) => i.index), options);
}

/**
 * Joins a split set (`parts`, any order) into one WIM at `destination`.
 *
 * @example
 * ```ts ignore
 * await joinWim("install.wim", ["install.swm", "install2.swm"]);
 * ```
 */
export async function joinWim(
  destination: string,
  parts: readonly string[],
  options: WriteOptions = {},
): Promise<WriteReport> {
  if (parts.length === 0) throw new WimkitError("Cannot join: no parts given", "usage");
  await using wim = await Wim.open(parts[0]!, { refs: parts.slice(1) });
  return await rebuild(wim, destination, wim.images().map((i) => i.index), options);
}
