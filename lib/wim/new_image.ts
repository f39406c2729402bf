/**
 * The in-memory tree of an image being written: what capture (lib/fs/scan.ts), update and the
 * zip bridge build, and what the writer turns into blobs, a metadata resource and XML. It knows
 * no host paths: file contents come through {@linkcode ContentSource}.
 */

import type { UnixData } from "../format/tagged_items.ts";
import type { ResourceHeader } from "../format/resource_header.ts";
import type { ByteSource } from "../io/byte_source.ts";
import type { ChunkCodec } from "../codecs/registry.ts";

/** Where the bytes of a stream come from; `read()` may be called more than once. */
export interface ContentSource {
  /** Exact size in bytes. */
  readonly size: number;
  /** A name for error messages (a host path, "zip:entry", ...). */
  readonly label: string;
  /** Yields the content from the start; each call starts a new read. */
  read(): AsyncIterable<Uint8Array>;
  /** SHA-1 already known (e.g. a blob taken from another WIM), lower-case hex. */
  readonly knownHash?: string;
  /** The blob's stored resource, which a writer with the same compression may copy as it is. */
  readonly stored?: StoredResource;
}

/** A non-solid resource in another WIM, copyable byte for byte. */
export interface StoredResource {
  /** Where its bytes are. */
  readonly source: ByteSource;
  /** Its header (offset, sizes, flags). */
  readonly resource: ResourceHeader;
  /** Codec of its chunks ("none" when not chunked). */
  readonly codec: ChunkCodec | "none";
  /** Chunk size of its chunks. */
  readonly chunkSize: number;
}

/** Reparse data of a link, already encoded (wim-format.md §8.3). */
export interface NewReparsePoint {
  /** Reparse tag. */
  readonly tag: number;
  /** Dentry reparse flags (bit 0 = NOT_FIXED). */
  readonly flags: number;
  /** The reparse buffer without its 8-byte header. */
  readonly data: Uint8Array;
}

/** One entry of an image being written. */
export interface NewNode {
  /** Name in the parent ("" for the root). */
  name: string;
  /** FILE_ATTRIBUTE_* bits. */
  attributes: number;
  /** FILETIMEs. */
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  /** Unnamed data, for regular files; absent or size 0 means empty. */
  content?: ContentSource;
  /** Reparse data, for links. */
  reparse?: NewReparsePoint;
  /** Identity of the file behind several names (hard links); equal values = one file. */
  inode?: string;
  /** UNIX data to store (with --unix-data). */
  unix?: UnixData;
  /** Raw tagged items to keep (from an image read back), besides UNIX data. */
  extraItems?: Uint8Array;
  /** 8.3 name (kept from an image read back). */
  shortName?: string;
  /** Index into the image's security descriptors (kept from an image read back). */
  securityId?: number;
  /** Named data streams (kept from an image read back). */
  namedStreams?: { name: string; content: ContentSource | null }[];
  /** Stored uncompressed (the config's CompressionExclusionList). */
  noCompress?: boolean;
  /** Children, for directories. */
  children?: NewNode[];
}

/** A source held in memory. */
export function bytesSource(bytes: Uint8Array, label: string): ContentSource {
  return {
    size: bytes.length,
    label,
    async *read() {
      yield bytes;
    },
  };
}
