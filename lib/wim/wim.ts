/**
 * A WIM file (or split set) opened for reading: header, blob table, XML, images, blobs. Its parts
 * are read by lib/wim/wim_parts.ts and its blobs indexed by lib/wim/blob_index.ts.
 */

import { createHash } from "node:crypto";
import { WimFormatError, WimIntegrityError, WimkitError } from "../errors.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { openSource, type OpenSourceOptions } from "../io/open_source.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { InlineChunkPool } from "../codecs/chunk_pool.ts";
import type { CompressionType } from "../codecs/codec.ts";
import { HeaderFlag, Limits, WIM_HEADER_SIZE } from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import { headerCompression, type WimHeader } from "../format/header.ts";
import { isEmptyResource } from "../format/resource_header.ts";
import { type ImageXmlInfo, WimXml } from "../format/xml_info.ts";
import { type ImageMetadata, parseMetadata } from "../format/metadata.ts";
import { parseIntegrityTable } from "../format/integrity.ts";
import type { BlobInfo } from "./blob_location.ts";
import { readBlobBytes, readBlobs } from "./blob_reader.ts";
import type { BlobCache } from "./blob_cache.ts";
import { readBlobBytesCached, readBlobsCached } from "./cached_blob_reader.ts";
import { indexBlobs } from "./blob_index.ts";
import { orderParts, readHeader, readUncompressed, type WimPart } from "./wim_parts.ts";

/** Options for {@linkcode Wim.open}. */
export interface WimOpenOptions {
  /** Other parts of a split set (paths or URLs); the opened file may be any part, usually part 1. */
  refs?: readonly string[];
  /** Pool for metadata and blob reads (default: inline on this thread). */
  pool?: ChunkPool;
  /** How http(s) URLs are read (retries, timeouts, servers without Range support, warnings). */
  source?: OpenSourceOptions;
  /** Blob cache: blobs and metadata it holds are not read from the WIM; those read are stored. */
  cache?: BlobCache;
}

/** An image's metadata, parsed. */
export interface WimImage {
  /** 1-based index. */
  readonly index: number;
  /** What the XML says about it. */
  readonly info: ImageXmlInfo;
  /** Its dentry tree and security data. */
  readonly metadata: ImageMetadata;
}

/**
 * A WIM opened for reading.
 *
 * @example List the images of a WIM
 * ```ts
 * import { Wim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/two_images.wim");
 * assert.ok(wim.images().map((i) => i.name).join() === "First,Second");
 * ```
 */
export class Wim implements AsyncDisposable {
  /** Path of the opened file. */
  readonly path: string;
  /** Header of the opened file (part 1 when split). */
  readonly header: WimHeader;
  /** The XML data. */
  readonly xml: WimXml;
  /** Compression type of non-solid resources. */
  readonly compression: CompressionType;
  /** Warnings found while opening (e.g. a write was in progress). */
  readonly warnings: string[];
  readonly #parts: WimPart[];
  readonly #metadata: BlobInfo[];
  readonly #blobs: Map<string, BlobInfo>;
  readonly #pool: ChunkPool;
  readonly #ownsPool: boolean;
  #cache: BlobCache | undefined;

  private constructor(
    path: string,
    parts: WimPart[],
    xml: WimXml,
    metadata: BlobInfo[],
    blobs: Map<string, BlobInfo>,
    pool: ChunkPool | undefined,
    warnings: string[],
  ) {
    this.path = path;
    this.#parts = parts;
    this.header = parts[0]!.header;
    this.xml = xml;
    this.compression = headerCompression(this.header);
    this.#metadata = metadata;
    this.#blobs = blobs;
    this.#pool = pool ?? new InlineChunkPool();
    this.#ownsPool = pool === undefined;
    this.warnings = warnings;
  }

  /**
   * Opens a WIM file, or a split set when `refs` names the other parts.
   *
   * @throws {WimFormatError} If a structure is invalid.
   * @throws {WimkitError} If a file cannot be read, or the split set is incomplete.
   */
  static async open(path: string, options: WimOpenOptions = {}): Promise<Wim> {
    const sources: ByteSource[] = [];
    try {
      const paths = [path, ...(options.refs ?? []).filter((p) => p !== path)];
      const parts: WimPart[] = [];
      for (const partPath of paths) {
        const source = await openSource(partPath, options.source ?? {});
        sources.push(source);
        parts.push({ source, header: await readHeader(source) });
      }
      const ordered = orderParts(parts, path);
      const warnings: string[] = [];
      const first = ordered[0]!;
      if (first.header.flags & HeaderFlag.WRITE_IN_PROGRESS) {
        warnings.push(`"${path}" is marked as being written; it may be incomplete`);
      }
      const xml = WimXml.parse(
        await readUncompressed(first, first.header.xml, "XML data", Limits.MAX_XML_BYTES),
      );
      if (xml.imageCount !== first.header.imageCount) {
        throw new WimFormatError(
          `header says ${first.header.imageCount} images but the XML data describes ${xml.imageCount}`,
        );
      }
      const { metadata, blobs } = await indexBlobs(ordered);
      if (metadata.length < first.header.imageCount) {
        throw new WimFormatError(
          `header says ${first.header.imageCount} images but the blob table has ${metadata.length} metadata resources`,
        );
      }
      const wim = new Wim(path, ordered, xml, metadata, blobs, options.pool, warnings);
      wim.#cache = options.cache;
      return wim;
    } catch (error) {
      for (const source of sources) source.close();
      throw withFile(error, path);
    }
  }

  /** The blob cache reads go through, if one was given. */
  get cache(): BlobCache | undefined {
    return this.#cache;
  }

  /** Number of images. */
  get imageCount(): number {
    return this.header.imageCount;
  }

  /** Chunk size of non-solid compressed resources (0 when uncompressed). */
  get chunkSize(): number {
    return this.header.chunkSize;
  }

  /** 1-based bootable image, 0 for none. */
  get bootIndex(): number {
    return this.header.bootIndex <= this.imageCount ? this.header.bootIndex : 0;
  }

  /** Size of the opened file (part 1 when split). */
  get fileSize(): number {
    return this.#parts[0]!.source.size;
  }

  /** The raw blob table of the opened file (for writers that keep it). */
  readBlobTableBytes(): Promise<Uint8Array> {
    const part = this.#parts[0]!;
    return readUncompressed(part, part.header.blobTable, "blob table", Limits.MAX_BLOB_TABLE_BYTES);
  }

  /** XML information of every image, in index order. */
  images(): ImageXmlInfo[] {
    return this.xml.images();
  }

  /** Every blob the WIM stores, in file order. */
  blobs(): BlobInfo[] {
    return [...this.#blobs.values()];
  }

  /** The blob with SHA-1 `hash`, if stored. */
  blob(hash: Uint8Array | string): BlobInfo | undefined {
    return this.#blobs.get(typeof hash === "string" ? hash : toHex(hash));
  }

  /** The metadata resource of image `index` (1-based). */
  metadataBlob(index: number): BlobInfo {
    this.#checkIndex(index);
    return this.#metadata[index - 1]!;
  }

  /**
   * Finds an image by 1-based index or by name.
   *
   * @throws {WimkitError} If no image matches.
   */
  resolveImage(spec: string | number): number {
    const text = String(spec).trim();
    if (/^[0-9]+$/.test(text)) {
      const index = Number(text);
      this.#checkIndex(index);
      return index;
    }
    const match = this.images().find((image) => image.name === text);
    if (!match) {
      throw new WimkitError(`"${this.path}" has no image named "${text}"`, "not-found", {
        file: this.path,
      });
    }
    return match.index;
  }

  /**
   * Reads and parses the metadata of image `index` (1-based), checking its SHA-1.
   *
   * @throws {WimFormatError} If the metadata is invalid.
   * @throws {WimIntegrityError} If its SHA-1 does not match.
   */
  async readImage(index: number): Promise<WimImage> {
    const blob = this.metadataBlob(index);
    try {
      if (blob.size > Limits.MAX_METADATA_BYTES) {
        throw new WimFormatError(
          `metadata resource is ${blob.size} bytes, over ${Limits.MAX_METADATA_BYTES}`,
        );
      }
      const bytes = await this.readBlob(blob);
      checkHash(bytes, blob, "metadata resource");
      return { index, info: this.images()[index - 1]!, metadata: parseMetadata(bytes) };
    } catch (error) {
      throw withFile(error, this.path, index);
    }
  }

  /**
   * Yields blobs' data in order (see {@linkcode readBlobs}), using `pool` or the WIM's own. With
   * a cache (`WimOpenOptions.cache`), blobs it holds come from it and the others are stored.
   */
  readBlobs(
    blobs: Iterable<BlobInfo>,
    options: { pool?: ChunkPool; signal?: AbortSignal } = {},
  ): AsyncGenerator<import("./blob_reader.ts").BlobPiece> {
    const readOptions = {
      fileName: this.path,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const pool = options.pool ?? this.#pool;
    return this.#cache
      ? readBlobsCached(blobs, pool, this.#cache, readOptions)
      : readBlobs(blobs, pool, readOptions);
  }

  /** Reads all of one (small) blob into memory; the caller checks its SHA-1 if it needs to. */
  readBlob(blob: BlobInfo): Promise<Uint8Array> {
    return this.#cache
      ? readBlobBytesCached(blob, this.#pool, this.#cache, { fileName: this.path })
      : readBlobBytes(blob, this.#pool, this.path);
  }

  /**
   * Streams one blob's uncompressed bytes.
   *
   * @example
   * ```ts
   * import { Wim } from "@wimkit/wimkit";
   * import assert from "node:assert/strict";
   * await using wim = await Wim.open("tests/fixtures/lzx.wim");
   * const blob = wim.blob("f572d396fae9206628714fb2ce00f72e94f2258f")!;
   * const text = await new Response(wim.openBlob(blob)).text();
   * assert.ok(text === "hello\n");
   * ```
   */
  openBlob(blob: BlobInfo): ReadableStream<Uint8Array> {
    const pieces = this.readBlobs([blob]);
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value.data.slice());
      },
      async cancel() {
        await pieces.return(undefined);
      },
    });
  }

  /**
   * Checks the integrity table of every part, if present; returns false when there is none.
   *
   * @throws {WimIntegrityError} Naming the part and chunk that does not match.
   */
  async checkIntegrity(onProgress?: (done: number, total: number) => void): Promise<boolean> {
    let any = false;
    for (const part of this.#parts) {
      const header = part.header;
      if (isEmptyResource(header.integrity)) continue;
      any = true;
      const end = header.blobTable.offset + header.blobTable.sizeInWim;
      const covered = end - WIM_HEADER_SIZE;
      const table = parseIntegrityTable(
        await readUncompressed(part, header.integrity, "integrity table", 1 << 26),
        covered,
      );
      const buffer = new Uint8Array(Math.min(table.chunkSize, 1 << 24));
      for (let i = 0; i < table.hashes.length; i++) {
        const start = WIM_HEADER_SIZE + i * table.chunkSize;
        const stop = Math.min(start + table.chunkSize, end);
        const hash = createHash("sha1");
        for (let pos = start; pos < stop; pos += buffer.length) {
          const n = Math.min(buffer.length, stop - pos);
          hash.update(await part.source.read(pos, n, buffer));
        }
        if (toHex(hash.digest()) !== toHex(table.hashes[i]!)) {
          throw new WimIntegrityError(
            `integrity check failed for "${part.source.name}": bytes ${start}..${stop} do not match the integrity table`,
            { file: part.source.name },
          );
        }
        onProgress?.(stop - WIM_HEADER_SIZE, covered);
      }
    }
    return any;
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 1 || index > this.imageCount) {
      throw new WimkitError(
        `"${this.path}" has no image ${index} (it has ${this.imageCount} image${
          this.imageCount === 1 ? "" : "s"
        })`,
        "not-found",
        { file: this.path },
      );
    }
  }

  /** Closes every part (and the pool, if the WIM created it). */
  close(): void {
    for (const part of this.#parts) part.source.close();
    if (this.#ownsPool) this.#pool[Symbol.dispose]();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Checks that `bytes` has the SHA-1 of `blob`.
 *
 * @throws {WimIntegrityError} On mismatch.
 */
export function checkHash(bytes: Uint8Array, blob: BlobInfo, what: string): void {
  const digest = createHash("sha1").update(bytes).digest("hex");
  if (digest !== blob.hashHex) {
    throw new WimIntegrityError(`${what} has SHA-1 ${digest}, expected ${blob.hashHex}`);
  }
}

function withFile(error: unknown, file: string, image?: number): unknown {
  if (!(error instanceof WimkitError) || error.file !== undefined) return error;
  const prefix = image === undefined
    ? `Cannot read "${file}"`
    : `Cannot read image ${image} of "${file}"`;
  return error.rephrase(`${prefix}: ${error.message}`, {
    file,
    ...(image === undefined ? {} : { image }),
  });
}
