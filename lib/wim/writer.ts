/**
 * Writes WIMs: a new file (capture, export to a new file, and the rebuilds of delete, optimize
 * and join) or changes in place (append, export into an existing WIM, update), with single
 * instancing by SHA-1 across files and images, compression on a chunk pool, resources copied
 * byte for byte when the source already has them in the destination's compression, the blob
 * table, XML, an optional integrity table and the header last (wim-format.md §14).
 *
 * Crash safety: a new WIM is written under a temporary name beside the target and renamed into
 * place when complete. An in-place change writes after the old end of the file and rewrites the
 * 208-byte header last, so until that single write the file still opens as the old WIM; on
 * failure it is truncated back.
 *
 * The parts: what a write takes and reports (write_options.ts), single instancing
 * (stream_plan.ts), raw resource copy (resource_copy.ts), per-image metadata and XML
 * (image_metadata.ts), the pipable layout's start (pipable_layout.ts), and the body of a write
 * (write_images.ts).
 */

import { CompressionMismatchError, WimkitError } from "../errors.ts";
import {
  HeaderFlag,
  WIM_HEADER_SIZE,
  WIM_VERSION_DEFAULT,
  WIM_VERSION_SOLID,
} from "../format/constants.ts";
import { compressionFlag, serializeHeader, type WimHeader } from "../format/header.ts";
import { type BlobTableEntry, parseBlobTable } from "../format/blob_table.ts";
import { EMPTY_RESOURCE } from "../format/resource_header.ts";
import { WimXml } from "../format/xml_info.ts";
import { FileSink } from "../io/file_sink.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import { writeImages } from "./write_images.ts";
import {
  DEFAULT_CHUNK_SIZES,
  type ImageToWrite,
  type WriteOptions,
  type WriteReport,
} from "./write_options.ts";
import { Wim } from "./wim.ts";

export { DEFAULT_CHUNK_SIZES, DEFAULT_SOLID_CHUNK_SIZE } from "./write_options.ts";
export type { ImageToWrite, WriteOptions, WriteReport } from "./write_options.ts";

/**
 * Writes `images` into a new WIM at `path` (replacing any file there, atomically).
 *
 * @example
 * ```ts ignore
 * const scan = await scanTree("src");
 * await createWim("out.wim", [{ root: scan.root, name: "src" }], { compression: "lzx" });
 * ```
 */
export async function createWim(
  path: string,
  images: readonly ImageToWrite[],
  options: WriteOptions = {},
): Promise<WriteReport> {
  const temp = `${path}.wimkit-${crypto.randomUUID().slice(0, 8)}.tmp`;
  const sink = FileSink.create(temp);
  try {
    const report = await writeNewWim(sink, path, images, options);
    sink.sync();
    sink.close();
    await Deno.rename(temp, path);
    return report;
  } catch (error) {
    sink.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Writes a new WIM into `sink` from offset 0; `path` names it in the report. A pipe sink needs
 * `options.pipable` (every write then follows the previous one).
 *
 * @throws {WimkitError} If `pipable` is combined with `solid`.
 *
 * @example
 * ```ts ignore
 * await writeNewWim(new PipeSink(Deno.stdout, "standard output"), "-", images, { pipable: true });
 * ```
 */
export async function writeNewWim(
  sink: ByteSink,
  path: string,
  images: readonly ImageToWrite[],
  options: WriteOptions = {},
): Promise<WriteReport> {
  const compression = options.solid ? "lzms" : options.compression ?? "lzx";
  const chunkSize = compression === "none"
    ? 0
    : options.chunkSize ?? DEFAULT_CHUNK_SIZES[compression];
  if (options.pipable && options.solid) {
    throw new WimkitError(
      `Cannot write "${path}": a pipable WIM cannot hold solid resources; leave out --solid`,
      "usage",
      { file: path },
    );
  }
  {
    const header: WimHeader = {
      pipable: options.pipable === true,
      version: compression === "lzms" || options.solid ? WIM_VERSION_SOLID : WIM_VERSION_DEFAULT,
      flags: compressionFlag(compression) | ((options.rpfix ?? true) ? HeaderFlag.RP_FIX : 0),
      chunkSize,
      guid: options.guid ?? crypto.getRandomValues(new Uint8Array(16)),
      partNumber: 1,
      totalParts: 1,
      imageCount: 0,
      blobTable: EMPTY_RESOURCE,
      xml: EMPTY_RESOURCE,
      bootMetadata: EMPTY_RESOURCE,
      bootIndex: 0,
      integrity: EMPTY_RESOURCE,
    };
    // A preliminary header marked "write in progress" with no tables: readers reject the file.
    // (The pipable layout writes its first header itself, once the image count is known.)
    if (!header.pipable) {
      sink.write(
        0,
        serializeHeader({ ...header, flags: header.flags | HeaderFlag.WRITE_IN_PROGRESS }),
      );
    }
    return await writeImages(
      { sink, start: WIM_HEADER_SIZE, header, oldEntries: [], xml: WimXml.create(), path },
      images,
      options,
    );
  }
}

/**
 * Adds `images` to the WIM at `path` in place (or replaces images, for those with `replaces`);
 * data the WIM already has is reused by SHA-1.
 *
 * @throws {CompressionMismatchError} If `options.compression` or `options.chunkSize` differs from
 *   the WIM's; nothing is written then.
 *
 * @example
 * ```ts ignore
 * await appendToWim("out.wim", [{ root: (await scanTree("src2")).root, name: "second" }]);
 * ```
 */
export async function appendToWim(
  path: string,
  images: readonly ImageToWrite[],
  options: WriteOptions = {},
): Promise<WriteReport> {
  const wim = await Wim.open(path);
  let header: WimHeader;
  let entries: BlobTableEntry[];
  let xml: WimXml;
  let oldSize: number;
  try {
    header = wim.header;
    checkWritable(wim, path, options);
    entries = parseBlobTable(await wim.readBlobTableBytes());
    xml = WimXml.parse(wim.xml.serialize());
    oldSize = wim.fileSize;
  } finally {
    wim.close();
  }
  const sink = FileSink.openExisting(path);
  try {
    const report = await writeImages(
      { sink, start: oldSize, header, oldEntries: entries, xml, path },
      images,
      options,
    );
    sink.close();
    return report;
  } catch (error) {
    try {
      sink.truncate(oldSize);
    } finally {
      sink.close();
    }
    throw error;
  }
}

function checkWritable(wim: Wim, path: string, options: WriteOptions): void {
  const header = wim.header;
  if (header.pipable) {
    throw new WimkitError(
      `Cannot change "${path}" in place: it is a pipable WIM; export its images into a new WIM (with --pipable to keep it pipable)`,
      "usage",
      { file: path },
    );
  }
  if (header.totalParts > 1) {
    throw new WimkitError(
      `Cannot change "${path}": it is part of a split WIM; join it first`,
      "usage",
      { file: path },
    );
  }
  if (header.flags & HeaderFlag.READONLY) {
    throw new WimkitError(`Cannot change "${path}": it is marked read-only`, "usage", {
      file: path,
    });
  }
  if (options.compression !== undefined && options.compression !== wim.compression) {
    throw new CompressionMismatchError(
      `Cannot append to "${path}": it is ${wim.compression.toUpperCase()}-compressed, not ${options.compression.toUpperCase()}; append with --compress=${wim.compression}, or convert it with "export" first`,
      { file: path },
    );
  }
  if (options.chunkSize !== undefined && options.chunkSize !== wim.chunkSize) {
    throw new CompressionMismatchError(
      `Cannot append to "${path}": its chunk size is ${wim.chunkSize}, not ${options.chunkSize}`,
      { file: path },
    );
  }
}
