/**
 * The 208-byte WIM header at offset 0 (MS `WIMHEADER_V1_PACKED`), wim-format.md §2.
 */

import { WimFormatError } from "../errors.ts";
import type { CompressionType } from "../codecs/codec.ts";
import {
  HeaderFlag,
  Limits,
  PIPABLE_WIM_MAGIC,
  RESOURCE_HEADER_SIZE,
  WIM_HEADER_SIZE,
  WIM_MAGIC,
  WIM_VERSION_DEFAULT,
  WIM_VERSION_SOLID,
} from "./constants.ts";
import { viewOf } from "./bytes.ts";
import {
  parseResourceHeader,
  type ResourceHeader,
  writeResourceHeader,
} from "./resource_header.ts";

/** +0x08: header size. */
const OFFSET_HEADER_SIZE = 0x08;
/** +0x0C: version. */
const OFFSET_VERSION = 0x0c;
/** +0x10: flags. */
const OFFSET_FLAGS = 0x10;
/** +0x14: chunk size of non-solid compressed resources. */
const OFFSET_CHUNK_SIZE = 0x14;
/** +0x18: 16-byte GUID. */
const OFFSET_GUID = 0x18;
/** +0x28: part number (1-based). */
const OFFSET_PART_NUMBER = 0x28;
/** +0x2A: total parts. */
const OFFSET_TOTAL_PARTS = 0x2a;
/** +0x2C: image count. */
const OFFSET_IMAGE_COUNT = 0x2c;
/** +0x30: blob table reshdr. */
const OFFSET_BLOB_TABLE = 0x30;
/** +0x48: XML data reshdr. */
const OFFSET_XML = 0x48;
/** +0x60: boot metadata reshdr. */
const OFFSET_BOOT_METADATA = 0x60;
/** +0x78: boot index (1-based, 0 = none). */
const OFFSET_BOOT_INDEX = 0x78;
/** +0x7C: integrity table reshdr. */
const OFFSET_INTEGRITY = 0x7c;

/** The decoded WIM header. */
export interface WimHeader {
  /** True for wimlib's pipable variant ("WLPWM"). */
  readonly pipable: boolean;
  /** 0x10D00 or 0xE00. */
  readonly version: number;
  /** `HeaderFlag` bits. */
  readonly flags: number;
  /** Chunk size of non-solid compressed resources; 0 when uncompressed. */
  readonly chunkSize: number;
  /** 16 bytes shared by all parts of a split set. */
  readonly guid: Uint8Array;
  /** 1-based part number. */
  readonly partNumber: number;
  /** Parts in the set (1 if not split). */
  readonly totalParts: number;
  /** Number of images. */
  readonly imageCount: number;
  /** Where the blob table is. */
  readonly blobTable: ResourceHeader;
  /** Where the XML data is. */
  readonly xml: ResourceHeader;
  /** Copy of the bootable image's metadata reshdr. */
  readonly bootMetadata: ResourceHeader;
  /** 1-based bootable image, 0 = none. */
  readonly bootIndex: number;
  /** Where the integrity table is (all zero if absent). */
  readonly integrity: ResourceHeader;
}

/** The compression type the header's flags announce for non-solid resources. */
export function headerCompression(header: Pick<WimHeader, "flags">): CompressionType {
  const flags = header.flags;
  if ((flags & HeaderFlag.COMPRESSION) === 0) return "none";
  if (flags & HeaderFlag.COMPRESS_LZMS) return "lzms";
  if (flags & HeaderFlag.COMPRESS_LZX) return "lzx";
  if (flags & (HeaderFlag.COMPRESS_XPRESS | HeaderFlag.COMPRESS_XPRESS_2)) return "xpress";
  throw new WimFormatError(
    `header flags 0x${flags.toString(16)} set COMPRESSION without a known compression type`,
  );
}

/** The header flag bit for a compression type (0 for none). */
export function compressionFlag(type: CompressionType): number {
  switch (type) {
    case "none":
      return 0;
    case "xpress":
      return HeaderFlag.COMPRESSION | HeaderFlag.COMPRESS_XPRESS;
    case "lzx":
      return HeaderFlag.COMPRESSION | HeaderFlag.COMPRESS_LZX;
    case "lzms":
      return HeaderFlag.COMPRESSION | HeaderFlag.COMPRESS_LZMS;
  }
}

/** Chunk sizes each codec accepts (wim-format.md §4.4). */
export const CHUNK_SIZE_LIMITS: Record<Exclude<CompressionType, "none">, [number, number]> = {
  xpress: [1 << 12, 1 << 16],
  lzx: [1 << 15, 1 << 21],
  lzms: [1 << 15, 1 << 30],
};

/**
 * Decodes the 208-byte header at the start of a WIM file.
 *
 * @param bytes The first {@linkcode WIM_HEADER_SIZE} bytes of the file.
 * @throws {WimFormatError} If the magic, header size, version or a field is not one wimkit reads.
 *
 * @example Read the number of images
 * ```ts
 * import { parseHeader, WIM_HEADER_SIZE } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const file = await Deno.readFile("tests/fixtures/xpress.wim");
 * const header = parseHeader(file.subarray(0, WIM_HEADER_SIZE));
 * assert.ok(header.imageCount === 1);
 * ```
 */
export function parseHeader(bytes: Uint8Array): WimHeader {
  if (bytes.length < WIM_HEADER_SIZE) {
    throw new WimFormatError(
      `file is ${bytes.length} bytes, shorter than the ${WIM_HEADER_SIZE}-byte WIM header`,
    );
  }
  const pipable = startsWith(bytes, PIPABLE_WIM_MAGIC);
  if (!pipable && !startsWith(bytes, WIM_MAGIC)) {
    throw new WimFormatError('not a WIM file: the magic is not "MSWIM"');
  }
  const view = viewOf(bytes);
  const headerSize = view.getUint32(OFFSET_HEADER_SIZE, true);
  if (headerSize !== WIM_HEADER_SIZE) {
    throw new WimFormatError(`header size is ${headerSize} bytes, expected ${WIM_HEADER_SIZE}`);
  }
  const version = view.getUint32(OFFSET_VERSION, true);
  if (version !== WIM_VERSION_DEFAULT && version !== WIM_VERSION_SOLID) {
    throw new WimFormatError(
      `unsupported WIM version 0x${version.toString(16)}, expected 0x10d00 or 0xe00`,
    );
  }
  const flags = view.getUint32(OFFSET_FLAGS, true);
  const chunkSize = view.getUint32(OFFSET_CHUNK_SIZE, true);
  const partNumber = view.getUint16(OFFSET_PART_NUMBER, true);
  const totalParts = view.getUint16(OFFSET_TOTAL_PARTS, true);
  if (partNumber === 0 || totalParts === 0 || partNumber > totalParts) {
    throw new WimFormatError(`invalid split part ${partNumber} of ${totalParts}`);
  }
  const imageCount = view.getUint32(OFFSET_IMAGE_COUNT, true);
  if (imageCount > Limits.MAX_IMAGES) {
    throw new WimFormatError(`image count ${imageCount} exceeds ${Limits.MAX_IMAGES}`);
  }
  const header: WimHeader = {
    pipable,
    version,
    flags,
    chunkSize,
    guid: bytes.slice(OFFSET_GUID, OFFSET_GUID + 16),
    partNumber,
    totalParts,
    imageCount,
    blobTable: reshdrAt(bytes, OFFSET_BLOB_TABLE, "blob table"),
    xml: reshdrAt(bytes, OFFSET_XML, "XML data"),
    bootMetadata: reshdrAt(bytes, OFFSET_BOOT_METADATA, "boot metadata"),
    bootIndex: view.getUint32(OFFSET_BOOT_INDEX, true),
    integrity: reshdrAt(bytes, OFFSET_INTEGRITY, "integrity table"),
  };
  validateChunkSize(header);
  return header;
}

function validateChunkSize(header: WimHeader): void {
  const compression = headerCompression(header);
  if (compression === "none") return;
  const [min, max] = CHUNK_SIZE_LIMITS[compression];
  const size = header.chunkSize;
  if (size < min || size > max || (size & (size - 1)) !== 0) {
    throw new WimFormatError(
      `chunk size ${size} is not valid for ${compression.toUpperCase()} (a power of two from ${min} to ${max})`,
    );
  }
}

/**
 * Encodes `header` into 208 bytes.
 *
 * @example
 * ```ts
 * import { parseHeader, serializeHeader } from "./header.ts";
 * import assert from "node:assert/strict";
 * const file = await Deno.readFile("tests/fixtures/xpress.wim");
 * const header = parseHeader(file.subarray(0, 208));
 * assert.ok(serializeHeader(header).every((b, i) => b === file[i]));
 * ```
 */
export function serializeHeader(header: WimHeader): Uint8Array {
  const out = new Uint8Array(WIM_HEADER_SIZE);
  out.set(header.pipable ? PIPABLE_WIM_MAGIC : WIM_MAGIC, 0);
  const view = viewOf(out);
  view.setUint32(OFFSET_HEADER_SIZE, WIM_HEADER_SIZE, true);
  view.setUint32(OFFSET_VERSION, header.version, true);
  view.setUint32(OFFSET_FLAGS, header.flags, true);
  view.setUint32(OFFSET_CHUNK_SIZE, header.chunkSize, true);
  out.set(header.guid, OFFSET_GUID);
  view.setUint16(OFFSET_PART_NUMBER, header.partNumber, true);
  view.setUint16(OFFSET_TOTAL_PARTS, header.totalParts, true);
  view.setUint32(OFFSET_IMAGE_COUNT, header.imageCount, true);
  writeResourceHeader(out, OFFSET_BLOB_TABLE, header.blobTable);
  writeResourceHeader(out, OFFSET_XML, header.xml);
  writeResourceHeader(out, OFFSET_BOOT_METADATA, header.bootMetadata);
  view.setUint32(OFFSET_BOOT_INDEX, header.bootIndex, true);
  writeResourceHeader(out, OFFSET_INTEGRITY, header.integrity);
  return out;
}

function reshdrAt(bytes: Uint8Array, offset: number, field: string): ResourceHeader {
  return parseResourceHeader(bytes.subarray(offset, offset + RESOURCE_HEADER_SIZE), field);
}

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}
