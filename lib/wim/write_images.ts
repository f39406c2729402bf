/**
 * The body of every write (wim-format.md §14): after `start`, the data of the new images (copied
 * as stored resources where the compression allows, compressed otherwise), their metadata
 * resources, the blob table with updated reference counts, the XML, an optional integrity table,
 * and the header last. The pipable layout puts the XML and the metadata before the data.
 */

import { type ChunkPool, InlineChunkPool } from "../codecs/chunk_pool.ts";
import { HeaderFlag, ResourceFlag, WIM_HEADER_SIZE } from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import { headerCompression, serializeHeader, type WimHeader } from "../format/header.ts";
import type { BlobTableEntry } from "../format/blob_table.ts";
import { EMPTY_RESOURCE } from "../format/resource_header.ts";
import type { WimXml } from "../format/xml_info.ts";
import type { ByteSink } from "../io/byte_sink.ts";
import { createHash } from "node:crypto";
import { writeBlobs, type WrittenBlob } from "./blob_writer.ts";
import { writeSolidResource } from "./solid_writer.ts";
import { type ImageMetadata, type PreparedImages, prepareImages } from "./image_metadata.ts";
import { bytesSource } from "./new_image.ts";
import { writePipableStart } from "./pipable_layout.ts";
import { copyResources } from "./resource_copy.ts";
import { type PlannedStream, planStreams, solidOrder } from "./stream_plan.ts";
import { writeTables } from "./tables_writer.ts";
import {
  DEFAULT_SOLID_CHUNK_SIZE,
  type ImageToWrite,
  PIECE_BYTES,
  type WriteOptions,
  type WriteReport,
} from "./write_options.ts";

/** Where a write goes and what the WIM held before it. */
export interface WriteTarget {
  readonly sink: ByteSink;
  /** Offset of the first byte to write (after the header, or the old end of the file). */
  readonly start: number;
  readonly header: WimHeader;
  readonly oldEntries: readonly BlobTableEntry[];
  /** The WIM's XML, changed in place. */
  readonly xml: WimXml;
  /** Names the WIM in messages and the report. */
  readonly path: string;
}

/**
 * Writes new blobs, metadata, blob table, XML, integrity table and header after `target.start`.
 *
 * @example
 * ```ts ignore
 * const report = await writeImages({ sink, start, header, oldEntries, xml, path }, images, {});
 * ```
 */
export async function writeImages(
  target: WriteTarget,
  images: readonly ImageToWrite[],
  options: WriteOptions,
): Promise<WriteReport> {
  const { sink, header, oldEntries, xml, path } = target;
  const pipable = header.pipable;
  const compression = headerCompression(header);
  const codec = compression === "none" ? "none" : compression;
  const pool: ChunkPool = options.pool ?? new InlineChunkPool();
  // 1–2. Single instancing. The pipable layout writes metadata (which names every hash) before
  // the data: hash all.
  const plan = await planStreams(images, oldEntries, pipable, options.signal);
  // 3. Copy compatible resources as they are; compress the rest.
  let pos = target.start;
  const newEntries: BlobTableEntry[] = [];
  const solidEntries: BlobTableEntry[] = [];
  const copyable = (stream: PlannedStream) =>
    !pipable && !options.recompress && !options.solid && !stream.raw &&
    stream.source.stored !== undefined &&
    ((stream.source.stored.resource.flags & ResourceFlag.COMPRESSED) === 0 ||
      (stream.source.stored.codec === codec &&
        stream.source.stored.chunkSize === header.chunkSize));
  const copies = plan.toWrite.filter(copyable);
  const copied = await copyResources(
    sink,
    pos,
    copies.map((stream) => ({ stored: stream.source.stored!, hash: stream.hash! })),
  );
  newEntries.push(...copied.entries);
  pos = copied.end;
  const compressed = plan.toWrite.filter((stream) => !copyable(stream));
  if (options.solid) compressed.sort(solidOrder);
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
  const replacedMetadata = new Map<number, BlobTableEntry>();
  const appendedMetadata: BlobTableEntry[] = [];
  const writeMetadata = async (metadata: readonly ImageMetadata[]) => {
    for (const { bytes, replaces } of metadata) {
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
  const before = {
    imageCount: header.imageCount,
    bootIndex: options.bootIndex ?? header.bootIndex,
  };
  const boot = options.boot === true;
  let prepared: PreparedImages;
  if (pipable) {
    prepared = prepareImages(images, xml, plan.hashesOf, before, boot);
    const { imageCount, bootIndex } = prepared;
    pos = writePipableStart(sink, {
      ...header,
      imageCount,
      bootIndex: bootIndex > imageCount ? 0 : bootIndex,
    }, xml);
    await writeMetadata(prepared.metadata);
    await writeFileData();
  } else {
    await writeFileData();
    prepared = prepareImages(images, xml, plan.hashesOf, before, boot);
    await writeMetadata(prepared.metadata);
  }
  const { imageCount, refDelta } = prepared;
  const adjust = (entry: BlobTableEntry): BlobTableEntry => {
    const delta = refDelta.get(toHex(entry.hash));
    return delta === undefined ? entry : { ...entry, refCount: entry.refCount + delta };
  };
  const tableEntries = [
    ...keptEntries(oldEntries, adjust, replacedMetadata),
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
  const bootIndex = prepared.bootIndex > imageCount ? 0 : prepared.bootIndex;
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
    addedImages: prepared.indexes,
    newBlobs: compressed.length,
    copiedBlobs: copies.length,
    reusedBlobs: plan.reused,
    sizeBytes: pos,
  };
}

/**
 * The entries of `oldEntries` that stay, with `adjust`ed reference counts: every live metadata
 * resource (or the one replacing it), every blob still referenced, and every solid resource.
 */
function keptEntries(
  oldEntries: readonly BlobTableEntry[],
  adjust: (entry: BlobTableEntry) => BlobTableEntry,
  replacedMetadata: ReadonlyMap<number, BlobTableEntry>,
): BlobTableEntry[] {
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
  return kept;
}
