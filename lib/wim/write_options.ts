/**
 * What the writer takes and gives back: the images to write, the options of a write and its
 * report, and the default chunk sizes (wim-format.md §4.4). Shared by the entry points
 * (lib/wim/writer.ts) and the body of a write (lib/wim/write_images.ts).
 */

import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { CompressionType } from "../codecs/codec.ts";
import type { WimXml } from "../format/xml_info.ts";
import type { OperationOptions } from "../progress.ts";
import type { NewNode } from "./new_image.ts";

/** Default chunk sizes (wim-format.md §4.4). */
export const DEFAULT_CHUNK_SIZES: Record<Exclude<CompressionType, "none">, number> = {
  xpress: 32768,
  lzx: 32768,
  lzms: 131072,
};
/** Default chunk size of solid resources. */
export const DEFAULT_SOLID_CHUNK_SIZE = 64 << 20;
/** Piece size for writing uncompressed WIMs and copying resources. */
export const PIECE_BYTES = 1 << 20;

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
