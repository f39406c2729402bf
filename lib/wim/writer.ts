/**
 * Writes WIMs: a new file (capture) or new images appended in place (append), with single
 * instancing by SHA-1 across files and images, compression on a chunk pool, the blob table, XML,
 * an optional integrity table and the header last (wim-format.md §14).
 *
 * Crash safety: a new WIM is written under a temporary name beside the target and renamed into
 * place when complete. An append writes after the old end of the file and rewrites the 208-byte
 * header last, so until that single write the file still opens as the old WIM; on failure it is
 * truncated back.
 */

import { CompressionMismatchError, WimkitError } from "../errors.ts";
import { InlineChunkPool } from "../codecs/chunk_pool.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { CompressionType } from "../codecs/codec.ts";
import {
  HeaderFlag,
  ResourceFlag,
  WIM_HEADER_SIZE,
  WIM_VERSION_DEFAULT,
  WIM_VERSION_SOLID,
} from "../format/constants.ts";
import { compressionFlag, serializeHeader, type WimHeader } from "../format/header.ts";
import { type BlobTableEntry, parseBlobTable, serializeBlobTable } from "../format/blob_table.ts";
import { EMPTY_RESOURCE, type ResourceHeader } from "../format/resource_header.ts";
import { WimXml } from "../format/xml_info.ts";
import { toHex } from "../format/bytes.ts";
import { FileSink } from "../io/file_sink.ts";
import type { OperationOptions } from "../progress.ts";
import { type BlobToWrite, hashSource, writeBlobs, writeSolidResource } from "./blob_writer.ts";
import { imageStats } from "./image_stats.ts";
import { computeIntegrityTable } from "./integrity_writer.ts";
import { bytesSource, type ContentSource, type NewNode } from "./new_image.ts";
import { metadataFor } from "./new_metadata.ts";
import { Wim } from "./wim.ts";

/** Default chunk sizes (wim-format.md §4.4). */
export const DEFAULT_CHUNK_SIZES: Record<Exclude<CompressionType, "none">, number> = {
  xpress: 32768,
  lzx: 32768,
  lzms: 131072,
};
/** Piece size for writing uncompressed WIMs. */
const RAW_PIECE_BYTES = 1 << 20;
/** Default chunk size of solid resources. */
export const DEFAULT_SOLID_CHUNK_SIZE = 64 << 20;

/** An image to add. */
export interface ImageToWrite {
  /** The tree. */
  readonly root: NewNode;
  /** NAME. */
  readonly name: string;
  /** DESCRIPTION. */
  readonly description?: string;
  /** FLAGS (edition id). */
  readonly flags?: string;
  /** Other elements under IMAGE in order, as [path, value] (e.g. ["WINDOWS/ARCH", "9"]); a path
   * given twice makes two elements. */
  readonly properties?: readonly (readonly [string, string])[];
}

/** How to write. */
export interface WriteOptions extends OperationOptions {
  /** Compression of a new WIM; for an append, must match the WIM's (default: the WIM's, or lzx). */
  compression?: CompressionType;
  /** Chunk size of non-solid resources (default per codec). */
  chunkSize?: number;
  /** Compression level, wimlib's scale (0 or absent = default). */
  level?: number;
  /** Put new file data in one solid LZMS resource (the .esd layout). */
  solid?: boolean;
  /** Chunk size of the solid resource (default 64 MiB). */
  solidChunkSize?: number;
  /** Write an integrity table (kept anyway when the WIM had one). */
  check?: boolean;
  /** Mark the (last) added image bootable. */
  boot?: boolean;
  /** Whether links were rewritten relative to the capture root (header RP_FIX; default true). */
  rpfix?: boolean;
  /** Where chunks are compressed (default: inline). */
  pool?: ChunkPool;
}

/** What a write did. */
export interface WriteReport {
  /** The WIM written. */
  readonly path: string;
  /** Images in the WIM now. */
  readonly imageCount: number;
  /** 1-based indexes of the images added. */
  readonly addedImages: number[];
  /** Blobs written. */
  readonly newBlobs: number;
  /** References satisfied by blobs the WIM already had or that repeated in the new images. */
  readonly reusedBlobs: number;
  /** File size afterwards. */
  readonly sizeBytes: number;
}

/**
 * Captures `images` into a new WIM at `path` (replacing any file there, atomically).
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
  const compression = options.solid ? "lzms" : options.compression ?? "lzx";
  const chunkSize = compression === "none"
    ? 0
    : options.chunkSize ?? DEFAULT_CHUNK_SIZES[compression];
  const temp = `${path}.wimkit-${crypto.randomUUID().slice(0, 8)}.tmp`;
  const sink = FileSink.create(temp);
  try {
    const header: WimHeader = {
      pipable: false,
      version: compression === "lzms" || options.solid ? WIM_VERSION_SOLID : WIM_VERSION_DEFAULT,
      flags: compressionFlag(compression) | ((options.rpfix ?? true) ? HeaderFlag.RP_FIX : 0),
      chunkSize,
      guid: crypto.getRandomValues(new Uint8Array(16)),
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
    sink.write(
      0,
      serializeHeader({ ...header, flags: header.flags | HeaderFlag.WRITE_IN_PROGRESS }),
    );
    const report = await writeImages(
      sink,
      WIM_HEADER_SIZE,
      header,
      [],
      WimXml.create(),
      images,
      options,
      path,
    );
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
 * Appends `images` to the WIM at `path`, in place; existing data is reused by SHA-1.
 *
 * @throws {CompressionMismatchError} If `options.compression` differs from the WIM's; nothing is
 *   written then.
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
    if (header.totalParts > 1) {
      throw new WimkitError(`Cannot append to "${path}": it is part of a split WIM`, "usage", {
        file: path,
      });
    }
    if (header.flags & HeaderFlag.READONLY) {
      throw new WimkitError(`Cannot append to "${path}": it is marked read-only`, "usage", {
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
    const table = await wim.readBlobTableBytes();
    entries = parseBlobTable(table);
    xml = WimXml.parse(wim.xml.serialize());
    oldSize = wim.fileSize;
  } finally {
    wim.close();
  }
  const sink = FileSink.openExisting(path);
  try {
    const report = await writeImages(sink, oldSize, header, entries, xml, images, {
      ...options,
      compression: headerCompressionOf(header),
    }, path);
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

function headerCompressionOf(header: WimHeader): CompressionType {
  if (!(header.flags & HeaderFlag.COMPRESSION)) return "none";
  if (header.flags & HeaderFlag.COMPRESS_LZMS) return "lzms";
  if (header.flags & HeaderFlag.COMPRESS_LZX) return "lzx";
  return "xpress";
}

interface Stream {
  source: ContentSource;
  raw: boolean;
  hash: string | null;
}

/** Writes new blobs, metadata, blob table, XML, integrity table and header after `start`. */
async function writeImages(
  sink: FileSink,
  start: number,
  header: WimHeader,
  oldEntries: BlobTableEntry[],
  xml: WimXml,
  images: readonly ImageToWrite[],
  options: WriteOptions,
  path: string,
): Promise<WriteReport> {
  const compression = headerCompressionOf(header);
  const codec = compression === "none" ? "none" : compression;
  const pool = options.pool ?? new InlineChunkPool();
  const level = options.level ?? 0;
  const existingBySize = new Set<number>();
  const existing = new Map<string, BlobTableEntry>();
  for (const entry of oldEntries) {
    if (entry.resource.flags & ResourceFlag.METADATA) continue;
    const size = (entry.resource.flags & ResourceFlag.SOLID)
      ? entry.resource.sizeInWim
      : entry.resource.originalSize;
    const hex = toHex(entry.hash);
    if (size === 0 || /^0+$/.test(hex)) continue;
    existing.set(hex, entry);
    existingBySize.add(size);
  }
  // 1. Streams of every new image; one per hard-link group.
  const perImage: Map<NewNode, Stream>[] = [];
  const reparse = new Map<NewNode, Stream>();
  const all: Stream[] = [];
  for (const image of images) {
    const streams = new Map<NewNode, Stream>();
    const byInode = new Map<string, Stream>();
    const stack: NewNode[] = [image.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.children) stack.push(...node.children);
      if (node.reparse && node.reparse.data.length > 0) {
        const stream = {
          source: bytesSource(node.reparse.data, `reparse data of ${node.name}`),
          raw: false,
          hash: null,
        };
        reparse.set(node, stream);
        all.push(stream);
      }
      if (!node.content || node.content.size === 0) continue;
      const shared = node.inode === undefined ? undefined : byInode.get(node.inode);
      if (shared) {
        streams.set(node, shared);
        continue;
      }
      const stream: Stream = {
        source: node.content,
        raw: node.noCompress === true,
        hash: node.content.knownHash ?? null,
      };
      if (node.inode !== undefined) byInode.set(node.inode, stream);
      streams.set(node, stream);
      all.push(stream);
    }
    perImage.push(streams);
  }
  // 2. Hash what may be a duplicate: streams whose size another new stream or a stored blob has.
  const sizeCount = new Map<number, number>();
  for (const stream of all) {
    sizeCount.set(stream.source.size, (sizeCount.get(stream.source.size) ?? 0) + 1);
  }
  const toWrite: Stream[] = [];
  const firstByHash = new Map<string, Stream>();
  let reused = 0;
  for (const stream of all) {
    options.signal?.throwIfAborted();
    const size = stream.source.size;
    if (stream.hash === null && (sizeCount.get(size)! > 1 || existingBySize.has(size))) {
      stream.hash = await hashSource(stream.source);
    }
    if (stream.hash !== null) {
      if (existing.has(stream.hash) || firstByHash.has(stream.hash)) {
        reused++;
        continue;
      }
      firstByHash.set(stream.hash, stream);
    }
    toWrite.push(stream);
  }
  // 3. Write new blobs.
  let totalBytes = 0;
  for (const stream of toWrite) totalBytes += stream.source.size;
  let doneBytes = 0;
  const onBytes = (n: number) => {
    doneBytes += n;
    options.onProgress?.({ type: "write-blobs", doneBytes, totalBytes, workers: pool.concurrency });
  };
  const writerOptions = {
    sink,
    offset: start,
    codec,
    chunkSize: header.chunkSize || RAW_PIECE_BYTES,
    level,
    pool,
    onBytes,
    ...(options.signal ? { signal: options.signal } : {}),
  } as const;
  const newEntries: BlobTableEntry[] = [];
  const solidEntries: BlobTableEntry[] = [];
  let pos = start;
  const blobs: BlobToWrite[] = toWrite.map((s) => ({ source: s.source, raw: s.raw }));
  if (options.solid && blobs.length > 0) {
    const result = await writeSolidResource(blobs, {
      ...writerOptions,
      codec: "lzms",
      chunkSize: options.solidChunkSize ?? DEFAULT_SOLID_CHUNK_SIZE,
    });
    solidEntries.push({
      resource: result.resource,
      partNumber: 1,
      refCount: 1,
      hash: new Uint8Array(20),
    });
    result.written.forEach((blob, i) => {
      toWrite[i]!.hash = blob.hashHex;
      solidEntries.push({ resource: blob.resource, partNumber: 1, refCount: 0, hash: blob.hash });
    });
    pos = result.end;
  } else {
    const result = await writeBlobs(blobs, writerOptions);
    result.written.forEach((blob, i) => {
      toWrite[i]!.hash = blob.hashHex;
      newEntries.push({ resource: blob.resource, partNumber: 1, refCount: 0, hash: blob.hash });
    });
    pos = result.end;
  }
  // 4. Metadata resources, reference counts, XML.
  const refCounts = new Map<string, number>();
  const metadataEntries: BlobTableEntry[] = [];
  const added: number[] = [];
  let bootMetadata = header.bootMetadata;
  let bootIndex = header.bootIndex;
  for (const [i, image] of images.entries()) {
    const { bytes, references } = metadataFor(image.root, perImage[i]!, reparse);
    for (const hash of references) refCounts.set(hash, (refCounts.get(hash) ?? 0) + 1);
    const result = await writeBlobs([{ source: bytesSource(bytes, "metadata") }], {
      ...writerOptions,
      offset: pos,
    });
    pos = result.end;
    const written = result.written[0]!;
    const resource: ResourceHeader = {
      ...written.resource,
      flags: written.resource.flags | ResourceFlag.METADATA,
    };
    metadataEntries.push({ resource, partNumber: 1, refCount: 1, hash: written.hash });
    const index = xml.addImage({ name: image.name, description: "" });
    added.push(index);
    fillImageXml(xml, index, image);
    if (options.boot && i === images.length - 1) {
      bootIndex = index;
      bootMetadata = resource;
    }
  }
  const withRefs = (entry: BlobTableEntry): BlobTableEntry => {
    const hex = toHex(entry.hash);
    const extra = refCounts.get(hex);
    return extra === undefined ? entry : { ...entry, refCount: entry.refCount + extra };
  };
  const tableEntries = oldEntries.length === 0
    ? [...metadataEntries, ...newEntries.map(withRefs), ...solidEntries.map(withRefs)]
    : [
      ...oldEntries.map(withRefs),
      ...metadataEntries,
      ...newEntries.map(withRefs),
      ...solidEntries.map(withRefs),
    ];
  // 5. Blob table, XML, integrity table, header.
  const table = serializeBlobTable(tableEntries);
  const blobTable: ResourceHeader = {
    sizeInWim: table.length,
    flags: ResourceFlag.METADATA,
    offset: pos,
    originalSize: table.length,
  };
  sink.write(pos, table);
  pos += table.length;
  xml.totalBytes = pos;
  const xmlBytes = xml.serialize();
  const xmlResource: ResourceHeader = {
    sizeInWim: xmlBytes.length,
    flags: ResourceFlag.METADATA,
    offset: pos,
    originalSize: xmlBytes.length,
  };
  sink.write(pos, xmlBytes);
  pos += xmlBytes.length;
  let integrity = EMPTY_RESOURCE;
  if (options.check || header.integrity.sizeInWim > 0) {
    const integrityBytes = computeIntegrityTable(sink, blobTable.offset + blobTable.sizeInWim);
    integrity = {
      sizeInWim: integrityBytes.length,
      flags: 0,
      offset: pos,
      originalSize: integrityBytes.length,
    };
    sink.write(pos, integrityBytes);
    pos += integrityBytes.length;
  }
  sink.truncate(pos);
  sink.sync();
  const imageCount = header.imageCount + images.length;
  sink.write(
    0,
    serializeHeader({
      ...header,
      flags: header.flags & ~HeaderFlag.WRITE_IN_PROGRESS,
      imageCount,
      blobTable,
      xml: xmlResource,
      bootIndex,
      bootMetadata: bootIndex === 0 ? EMPTY_RESOURCE : bootMetadata,
      integrity,
    }),
  );
  sink.sync();
  return {
    path,
    imageCount,
    addedImages: added,
    newBlobs: toWrite.length,
    reusedBlobs: reused,
    sizeBytes: pos,
  };
}

/** Fills an IMAGE element in wimlib's element order. */
function fillImageXml(xml: WimXml, index: number, image: ImageToWrite): void {
  const stats = imageStats(image.root);
  xml.setImageProperty(index, "DIRCOUNT", String(stats.dirCount));
  xml.setImageProperty(index, "FILECOUNT", String(stats.fileCount));
  xml.setImageProperty(index, "TOTALBYTES", String(stats.totalBytes));
  xml.setImageProperty(index, "HARDLINKBYTES", String(stats.hardLinkBytes));
  const now = BigInt(Date.now()) * 10000n + 116444736000000000n;
  xml.setImageTime(index, "CREATIONTIME", now);
  xml.setImageTime(index, "LASTMODIFICATIONTIME", now);
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
