/**
 * Where a blob's bytes are: a resource of its own (uncompressed or chunked) or a range inside a
 * solid resource, plus the chunk layout of each kind of resource (wim-format.md §4, §5).
 */

import { WimFormatError } from "../errors.ts";
import type { ByteSource } from "../io/byte_source.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import { SOLID_FORMATS, SOLID_HEADER_SIZE } from "../format/constants.ts";
import { readU64, viewOf } from "../format/bytes.ts";
import { CHUNK_SIZE_LIMITS } from "../format/header.ts";
import type { ResourceHeader } from "../format/resource_header.ts";

/** A blob the WIM stores, keyed by SHA-1. */
export interface BlobInfo {
  /** SHA-1 of the uncompressed blob. */
  readonly hash: Uint8Array;
  /** Lower-case hex of `hash`. */
  readonly hashHex: string;
  /** Uncompressed size in bytes. */
  readonly size: number;
  /** References over all images, as the blob table says. */
  readonly refCount: number;
  /** Part of a split set that stores it (1 when not split). */
  readonly partNumber: number;
  /** Where the bytes are. */
  readonly location: BlobLocation;
}

/** Where a blob's bytes are. */
export type BlobLocation =
  | {
    readonly kind: "resource";
    readonly source: ByteSource;
    readonly resource: ResourceHeader;
    /** Codec of the chunks, or "none" when the resource is not chunked. */
    readonly codec: ChunkCodec | "none";
    /** The header's chunk size. */
    readonly chunkSize: number;
  }
  | { readonly kind: "solid"; readonly solid: SolidResource; readonly offset: number };

/** A resource cut into chunks: where each chunk is and how big it is decoded. */
export interface ChunkLayout {
  /** The source the chunks are read from. */
  readonly source: ByteSource;
  /** Codec of the chunks, "none" when every chunk is stored raw. */
  readonly codec: ChunkCodec | "none";
  /** Uncompressed size of every chunk but the last. */
  readonly chunkSize: number;
  /** Total uncompressed size. */
  readonly uncompressedSize: number;
  /** File offset of each chunk's first byte, plus one entry for the end of the last chunk. */
  readonly bounds: Float64Array;
}

/** A solid resource; its chunk layout is read on first use. */
export class SolidResource {
  /** The part holding it. */
  readonly source: ByteSource;
  /** File offset of its 16-byte header. */
  readonly fileOffset: number;
  /** Bytes it occupies in the file. */
  readonly sizeInWim: number;
  /** Its offset in the run's concatenated uncompressed stream. */
  runOffset = 0;
  /** Uncompressed size, from its header. */
  uncompressedSize = 0;
  #layout: ChunkLayout | undefined;

  constructor(source: ByteSource, fileOffset: number, sizeInWim: number) {
    this.source = source;
    this.fileOffset = fileOffset;
    this.sizeInWim = sizeInWim;
  }

  /** Reads the 16-byte header: total size, chunk size, format. */
  async readHeader(): Promise<
    { uncompressedSize: number; chunkSize: number; codec: ChunkCodec | "none" }
  > {
    if (this.sizeInWim < SOLID_HEADER_SIZE) {
      throw new WimFormatError(`solid resource at offset ${this.fileOffset} is too small`);
    }
    const bytes = await this.source.read(this.fileOffset, SOLID_HEADER_SIZE);
    const view = viewOf(bytes);
    const uncompressedSize = readU64(view, 0, "solid resource size");
    const chunkSize = view.getUint32(8, true);
    const format = view.getUint32(12, true);
    const codec = SOLID_FORMATS[format];
    if (codec === undefined) {
      throw new WimFormatError(
        `solid resource at offset ${this.fileOffset} has unknown format ${format}`,
      );
    }
    if (codec !== "none") {
      const [min, max] = CHUNK_SIZE_LIMITS[codec];
      if (chunkSize < min || chunkSize > max || (chunkSize & (chunkSize - 1)) !== 0) {
        throw new WimFormatError(
          `solid resource at offset ${this.fileOffset} has invalid chunk size ${chunkSize} for ${codec.toUpperCase()}`,
        );
      }
    } else if (chunkSize === 0 || chunkSize > CHUNK_SIZE_LIMITS.lzms[1]) {
      throw new WimFormatError(
        `solid resource at offset ${this.fileOffset} has chunk size ${chunkSize}`,
      );
    }
    this.uncompressedSize = uncompressedSize;
    return { uncompressedSize, chunkSize, codec };
  }

  /** The chunk layout (reads the header and the size table once). */
  async layout(): Promise<ChunkLayout> {
    if (this.#layout) return this.#layout;
    const { uncompressedSize, chunkSize, codec } = await this.readHeader();
    const count = Math.ceil(uncompressedSize / chunkSize);
    const tableBytes = count * 4;
    if (SOLID_HEADER_SIZE + tableBytes > this.sizeInWim) {
      throw new WimFormatError(
        `solid resource at offset ${this.fileOffset}: chunk table runs past it`,
      );
    }
    const table = await this.source.read(this.fileOffset + SOLID_HEADER_SIZE, tableBytes);
    const view = viewOf(table);
    const bounds = new Float64Array(count + 1);
    let pos = this.fileOffset + SOLID_HEADER_SIZE + tableBytes;
    for (let i = 0; i < count; i++) {
      bounds[i] = pos;
      pos += view.getUint32(i * 4, true);
    }
    bounds[count] = pos;
    if (pos > this.fileOffset + this.sizeInWim) {
      throw new WimFormatError(`solid resource at offset ${this.fileOffset}: chunks run past it`);
    }
    this.#layout = { source: this.source, codec, chunkSize, uncompressedSize, bounds };
    return this.#layout;
  }
}

/**
 * Reads the chunk table of a non-solid compressed resource (4- or 8-byte entries).
 *
 * @throws {WimFormatError} If the table is inconsistent with the resource size.
 */
export async function readChunkLayout(
  source: ByteSource,
  resource: ResourceHeader,
  codec: ChunkCodec,
  chunkSize: number,
): Promise<ChunkLayout> {
  const size = resource.originalSize;
  const count = Math.ceil(size / chunkSize);
  const entrySize = size > 0xffffffff ? 8 : 4;
  const tableBytes = (count - 1) * entrySize;
  if (count === 0 || tableBytes >= resource.sizeInWim) {
    throw new WimFormatError(
      `compressed resource at offset ${resource.offset} is too small for its chunk table`,
    );
  }
  const table = tableBytes > 0 ? await source.read(resource.offset, tableBytes) : new Uint8Array(0);
  const view = viewOf(table);
  const dataStart = resource.offset + tableBytes;
  const end = resource.offset + resource.sizeInWim;
  const bounds = new Float64Array(count + 1);
  bounds[0] = dataStart;
  for (let i = 1; i < count; i++) {
    const entry = entrySize === 4
      ? view.getUint32((i - 1) * 4, true)
      : readU64(view, (i - 1) * 8, "chunk table entry");
    bounds[i] = dataStart + entry;
    if (bounds[i]! <= bounds[i - 1]! || bounds[i]! > end) {
      throw new WimFormatError(
        `compressed resource at offset ${resource.offset}: chunk ${i} starts at an invalid offset`,
      );
    }
  }
  bounds[count] = end;
  if (bounds[count]! <= bounds[count - 1]!) {
    throw new WimFormatError(
      `compressed resource at offset ${resource.offset}: last chunk is empty`,
    );
  }
  return { source, codec, chunkSize, uncompressedSize: size, bounds };
}

/** Uncompressed size of chunk `index` of a layout. */
export function chunkUncompressedSize(layout: ChunkLayout, index: number): number {
  const count = layout.bounds.length - 1;
  return index < count - 1
    ? layout.chunkSize
    : layout.uncompressedSize - (count - 1) * layout.chunkSize;
}

/**
 * Orders blobs as they lie in the files: by part, then resource offset, then offset inside a
 * solid resource (so each solid chunk is decoded once when reading in this order).
 */
export function compareLocation(a: BlobInfo, b: BlobInfo): number {
  if (a.partNumber !== b.partNumber) return a.partNumber - b.partNumber;
  const [aOffset, aInner] = position(a);
  const [bOffset, bInner] = position(b);
  return aOffset - bOffset || aInner - bInner;
}

function position(blob: BlobInfo): [number, number] {
  const location = blob.location;
  return location.kind === "resource"
    ? [location.resource.offset, 0]
    : [location.solid.fileOffset, location.offset];
}
