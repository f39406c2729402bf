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
 */

import { CompressionMismatchError, WimkitError } from "../errors.ts";
import { type ChunkPool, InlineChunkPool } from "../codecs/chunk_pool.ts";
import type { CompressionType } from "../codecs/codec.ts";
import {
  HeaderFlag,
  ResourceFlag,
  WIM_HEADER_SIZE,
  WIM_VERSION_DEFAULT,
  WIM_VERSION_SOLID,
} from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import {
  compressionFlag,
  headerCompression,
  serializeHeader,
  type WimHeader,
} from "../format/header.ts";
import { type BlobTableEntry, parseBlobTable } from "../format/blob_table.ts";
import { EMPTY_RESOURCE } from "../format/resource_header.ts";
import { WimXml } from "../format/xml_info.ts";
import { FileSink } from "../io/file_sink.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import { serializePipableBlobHeader } from "../format/pipable_blob_header.ts";
import { createHash } from "node:crypto";
import type { OperationOptions } from "../progress.ts";
import { hashSource, writeBlobs, writeSolidResource, type WrittenBlob } from "./blob_writer.ts";
import { imageStats } from "./image_stats.ts";
import { writeTables } from "./tables_writer.ts";
import { bytesSource, type ContentSource, type NewNode } from "./new_image.ts";
import { metadataFor, type StreamHashes } from "./new_metadata.ts";
import { Wim } from "./wim.ts";

/** Default chunk sizes (wim-format.md §4.4). */
export const DEFAULT_CHUNK_SIZES: Record<Exclude<CompressionType, "none">, number> = {
  xpress: 32768,
  lzx: 32768,
  lzms: 131072,
};
/** Default chunk size of solid resources. */
export const DEFAULT_SOLID_CHUNK_SIZE = 64 << 20;
/** Piece size for writing uncompressed WIMs and copying resources. */
const PIECE_BYTES = 1 << 20;

/** An image to write. */
export interface ImageToWrite {
  /** The tree. */
  readonly root: NewNode;
  /** NAME (kept from `xmlFrom` when absent there). */
  readonly name: string;
  /** DESCRIPTION. */
  readonly description?: string;
  /** FLAGS (edition id). */
  readonly flags?: string;
  /**
   * Other elements under IMAGE in order, as [path, value] (e.g. ["WINDOWS/ARCH", "9"]); a path
   * given twice makes two elements.
   */
  readonly properties?: readonly (readonly [string, string])[];
  /** Security descriptors that `NewNode.securityId` indexes. */
  readonly securityDescriptors?: readonly Uint8Array[];
  /** Copy this image's XML element (export, rebuilds) instead of making a new one. */
  readonly xmlFrom?: { readonly xml: WimXml; readonly index: number };
  /** In-place writes only: the 1-based image this one replaces (update). */
  readonly replaces?: number;
  /** With `replaces`: hashes of every stream reference of the replaced image. */
  readonly replacedReferences?: readonly string[];
}

/** How to write. */
export interface WriteOptions extends OperationOptions {
  /** Compression of a new WIM; for an in-place write, must match the WIM's. Default: lzx. */
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
  /** Mark the (last) written image bootable. */
  boot?: boolean;
  /** Whether links were rewritten relative to the capture root (header RP_FIX; default true). */
  rpfix?: boolean;
  /** Where chunks are compressed (default: inline). */
  pool?: ChunkPool;
  /** Compress everything again instead of copying compatible resources as they are. */
  recompress?: boolean;
  /**
   * New WIMs only: wimlib's pipable layout (wim-format.md §13), readable from a pipe by wimkit
   * and wimlib but not by Microsoft's tools or 7-Zip. Not with `solid`.
   */
  pipable?: boolean;
  /** New WIMs only: the GUID to keep (rebuilds), and the boot index to keep. */
  guid?: Uint8Array;
  bootIndex?: number;
}

/** What a write did. */
export interface WriteReport {
  /** The WIM written. */
  readonly path: string;
  /** Images in the WIM now. */
  readonly imageCount: number;
  /** 1-based indexes of the images written. */
  readonly addedImages: number[];
  /** Blobs compressed and written. */
  readonly newBlobs: number;
  /** Blobs copied byte for byte from a source WIM. */
  readonly copiedBlobs: number;
  /** References satisfied by blobs the WIM already had or that repeated in the new images. */
  readonly reusedBlobs: number;
  /** File size afterwards. */
  readonly sizeBytes: number;
}

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

interface Stream {
  source: ContentSource;
  raw: boolean;
  hash: string | null;
}

interface Target {
  sink: ByteSink;
  start: number;
  header: WimHeader;
  oldEntries: BlobTableEntry[];
  xml: WimXml;
  path: string;
}

/** Writes new blobs, metadata, blob table, XML, integrity table and header after `start`. */
async function writeImages(
  target: Target,
  images: readonly ImageToWrite[],
  options: WriteOptions,
): Promise<WriteReport> {
  const { sink, header, oldEntries, xml, path } = target;
  const pipable = header.pipable;
  const compression = headerCompression(header);
  const codec = compression === "none" ? "none" : compression;
  const pool = options.pool ?? new InlineChunkPool();
  const existing = new Set<string>();
  const existingSizes = new Set<number>();
  for (const entry of oldEntries) {
    if (entry.resource.flags & ResourceFlag.METADATA) continue;
    const size = entry.resource.flags & ResourceFlag.SOLID
      ? entry.resource.sizeInWim
      : entry.resource.originalSize;
    if (size === 0 || entry.hash.every((b) => b === 0)) continue;
    existing.add(toHex(entry.hash));
    existingSizes.add(size);
  }
  // 1. Every distinct stream of the new images (hard-link names share their first name's).
  const streams = new Map<ContentSource, Stream>();
  const reparseSources = new Map<NewNode, ContentSource>();
  const inodeContent = new Map<string, ContentSource>();
  const add = (source: ContentSource, raw: boolean) => {
    if (source.size > 0 && !streams.has(source)) {
      streams.set(source, { source, raw, hash: source.knownHash ?? null });
    }
  };
  const contentOf = (node: NewNode): ContentSource | undefined => {
    if (!node.content || node.inode === undefined) return node.content;
    const first = inodeContent.get(node.inode);
    if (first) return first;
    inodeContent.set(node.inode, node.content);
    return node.content;
  };
  for (const image of images) {
    for (const node of nodesOf(image.root)) {
      const content = contentOf(node);
      if (content) add(content, node.noCompress === true);
      for (const named of node.namedStreams ?? []) if (named.content) add(named.content, false);
      if (node.reparse && node.reparse.data.length > 0) {
        const source = bytesSource(node.reparse.data, `reparse data of "${node.name}"`);
        reparseSources.set(node, source);
        add(source, false);
      }
    }
  }
  // 2. Hash what may be a duplicate: streams whose size another stream or a stored blob has.
  const sizeCount = new Map<number, number>();
  for (const { source } of streams.values()) {
    sizeCount.set(source.size, (sizeCount.get(source.size) ?? 0) + 1);
  }
  const toWrite: Stream[] = [];
  const seen = new Set<string>();
  let reused = 0;
  for (const stream of streams.values()) {
    options.signal?.throwIfAborted();
    const size = stream.source.size;
    // The pipable layout writes metadata (which names every hash) before the data: hash all.
    if (
      stream.hash === null && (pipable || sizeCount.get(size)! > 1 || existingSizes.has(size))
    ) {
      stream.hash = await hashSource(stream.source);
    }
    if (stream.hash !== null && (existing.has(stream.hash) || seen.has(stream.hash))) {
      reused++;
      continue;
    }
    if (stream.hash !== null) seen.add(stream.hash);
    toWrite.push(stream);
  }
  // 3. Copy compatible resources as they are; compress the rest.
  let pos = target.start;
  const newEntries: BlobTableEntry[] = [];
  const solidEntries: BlobTableEntry[] = [];
  const copyable = (stream: Stream) =>
    !pipable && !options.recompress && !options.solid && !stream.raw &&
    stream.source.stored !== undefined &&
    ((stream.source.stored.resource.flags & ResourceFlag.COMPRESSED) === 0 ||
      (stream.source.stored.codec === codec &&
        stream.source.stored.chunkSize === header.chunkSize));
  const copies = toWrite.filter(copyable);
  for (const stream of copies) {
    const stored = stream.source.stored!;
    const resource = stored.resource;
    for (let done = 0; done < resource.sizeInWim; done += PIECE_BYTES) {
      const length = Math.min(PIECE_BYTES, resource.sizeInWim - done);
      sink.write(pos + done, await stored.source.read(resource.offset + done, length));
    }
    newEntries.push({
      resource: { ...resource, offset: pos, flags: resource.flags & ResourceFlag.COMPRESSED },
      partNumber: 1,
      refCount: 0,
      hash: Uint8Array.fromHex(stream.hash!),
    });
    pos += resource.sizeInWim;
  }
  const compressed = toWrite.filter((stream) => !copyable(stream));
  let totalBytes = 0;
  for (const stream of compressed) totalBytes += stream.source.size;
  let doneBytes = 0;
  const writerOptions = {
    sink,
    offset: pos,
    codec,
    chunkSize: header.chunkSize || PIECE_BYTES,
    level: options.level ?? 0,
    pool,
    onBytes: (n: number) => {
      doneBytes += n;
      options.onProgress?.({
        type: "write-blobs",
        doneBytes,
        totalBytes,
        workers: pool.concurrency,
      });
    },
    ...(options.signal ? { signal: options.signal } : {}),
  } as const;
  const blobs = compressed.map((s) => ({
    source: s.source,
    raw: s.raw,
    ...(s.hash === null ? {} : { hash: s.hash }),
  }));
  const record = (written: WrittenBlob[], into: BlobTableEntry[]) =>
    written.forEach((blob, i) => {
      compressed[i]!.hash = blob.hashHex;
      into.push({ resource: blob.resource, partNumber: 1, refCount: 0, hash: blob.hash });
    });
  const writeFileData = async () => {
    if (options.solid && blobs.length > 0) {
      const result = await writeSolidResource(blobs, {
        ...writerOptions,
        offset: pos,
        codec: "lzms",
        chunkSize: options.solidChunkSize ?? DEFAULT_SOLID_CHUNK_SIZE,
      });
      solidEntries.push({
        resource: result.resource,
        partNumber: 1,
        refCount: 1,
        hash: new Uint8Array(20),
      });
      record(result.written, solidEntries);
      pos = result.end;
    } else {
      const result = await writeBlobs(blobs, { ...writerOptions, offset: pos, pipable });
      record(result.written, newEntries);
      pos = result.end;
    }
  };
  // 4. Metadata resources, reference counts, XML: after the file data, except in the pipable
  // layout, which puts the XML and the metadata first so that a reader of a pipe knows the files
  // before their data arrives.
  const hashOf = (source: ContentSource | null | undefined) =>
    source && source.size > 0 ? streams.get(source)!.hash : null;
  const resolve = (node: NewNode): StreamHashes => ({
    data: hashOf(contentOf(node)),
    reparse: hashOf(reparseSources.get(node)),
    named: (node.namedStreams ?? []).map((s) => hashOf(s.content)),
  });
  const refDelta = new Map<string, number>();
  const replacedMetadata = new Map<number, BlobTableEntry>();
  const appendedMetadata: BlobTableEntry[] = [];
  const written: number[] = [];
  let bootIndex = options.bootIndex ?? header.bootIndex;
  let imageCount = header.imageCount;
  const prepared: { bytes: Uint8Array; replaces: number | undefined }[] = [];
  const prepareImages = () => {
    for (const [i, image] of images.entries()) {
      const { bytes, references } = metadataFor(
        image.root,
        resolve,
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
      prepared.push({ bytes, replaces: image.replaces });
      written.push(index);
      fillImageXml(xml, index, image);
      if (options.boot && i === images.length - 1) bootIndex = index;
    }
  };
  const writeMetadata = async () => {
    for (const { bytes, replaces } of prepared) {
      const hash = pipable ? createHash("sha1").update(bytes).digest("hex") : undefined;
      const source = bytesSource(bytes, "metadata");
      const result = await writeBlobs(
        [{ source, metadata: true, ...(hash === undefined ? {} : { hash }) }],
        { ...writerOptions, offset: pos, pipable },
      );
      pos = result.end;
      const blob = result.written[0]!;
      const entry: BlobTableEntry = {
        resource: { ...blob.resource, flags: blob.resource.flags | ResourceFlag.METADATA },
        partNumber: 1,
        refCount: 1,
        hash: blob.hash,
      };
      if (replaces !== undefined) replacedMetadata.set(replaces, entry);
      else appendedMetadata.push(entry);
    }
  };
  if (pipable) {
    prepareImages();
    pos = writePipableStart(sink, {
      ...header,
      imageCount,
      bootIndex: bootIndex > imageCount ? 0 : bootIndex,
    }, xml);
    await writeMetadata();
    await writeFileData();
  } else {
    await writeFileData();
    prepareImages();
    await writeMetadata();
  }
  const adjust = (entry: BlobTableEntry): BlobTableEntry => {
    const delta = refDelta.get(toHex(entry.hash));
    return delta === undefined ? entry : { ...entry, refCount: entry.refCount + delta };
  };
  let metadataSeen = 0;
  const kept: BlobTableEntry[] = [];
  for (const entry of oldEntries) {
    if (entry.resource.flags & ResourceFlag.METADATA && entry.refCount > 0) {
      metadataSeen++;
      kept.push(replacedMetadata.get(metadataSeen) ?? entry);
      continue;
    }
    const adjusted = adjust(entry);
    const isSolidResource = (entry.resource.flags & ResourceFlag.SOLID) !== 0 &&
      entry.hash.every((b) => b === 0);
    if (adjusted.refCount > 0 || isSolidResource) kept.push(adjusted);
  }
  const tableEntries = [
    ...kept,
    ...appendedMetadata,
    ...newEntries.map(adjust),
    ...solidEntries.map(adjust),
  ];
  // 5. Blob table, XML, integrity table, header.
  const tables = writeTables(
    sink,
    pos,
    tableEntries,
    (xmlOffset) => {
      xml.totalBytes = xmlOffset;
      return xml.serialize();
    },
    options.check === true || header.integrity.sizeInWim > 0,
    pipable,
  );
  pos = tables.end;
  sink.truncate(pos);
  sink.sync();
  // The pipable layout keeps its first header (tables zero) and ends with the complete one.
  const headerOffset = pipable ? pos : 0;
  if (pipable) pos += WIM_HEADER_SIZE;
  if (bootIndex > imageCount) bootIndex = 0;
  const metadataEntries = tableEntries.filter((e) =>
    e.resource.flags & ResourceFlag.METADATA && e.refCount > 0
  );
  sink.write(
    headerOffset,
    serializeHeader({
      ...header,
      flags: header.flags & ~HeaderFlag.WRITE_IN_PROGRESS,
      imageCount,
      blobTable: tables.blobTable,
      xml: tables.xml,
      bootIndex,
      bootMetadata: bootIndex === 0 ? EMPTY_RESOURCE : metadataEntries[bootIndex - 1]!.resource,
      integrity: tables.integrity,
    }),
  );
  sink.sync();
  return {
    path,
    imageCount,
    addedImages: written,
    newBlobs: compressed.length,
    copiedBlobs: copies.length,
    reusedBlobs: reused,
    sizeBytes: pos,
  };
}

/**
 * Pipable layout: the first header (complete but for the table pointers) and a copy of the XML
 * (without top-level TOTALBYTES) behind a blob header; returns the offset after them.
 */
function writePipableStart(sink: ByteSink, header: WimHeader, xml: WimXml): number {
  sink.write(0, serializeHeader(header));
  const bytes = xml.serialize();
  const hash = new Uint8Array(createHash("sha1").update(bytes).digest());
  const blobHeader = serializePipableBlobHeader({
    size: bytes.length,
    hash,
    flags: ResourceFlag.METADATA,
  });
  sink.write(WIM_HEADER_SIZE, blobHeader);
  sink.write(WIM_HEADER_SIZE + blobHeader.length, bytes);
  return WIM_HEADER_SIZE + blobHeader.length + bytes.length;
}

function* nodesOf(root: NewNode): Generator<NewNode> {
  const stack: NewNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    if (node.children) stack.push(...node.children);
  }
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
