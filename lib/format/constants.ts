/** Fixed numbers of the WIM format (wim-format.md §2-§11). */

/** Size of the WIM header at offset 0, in bytes. */
export const WIM_HEADER_SIZE = 208;
/** Size of a resource header ("reshdr"), in bytes. */
export const RESOURCE_HEADER_SIZE = 24;
/** Size of one blob table entry, in bytes. */
export const BLOB_TABLE_ENTRY_SIZE = 50;
/** Size of a SHA-1 digest, in bytes. */
export const SHA1_SIZE = 20;
/** Fixed part of a directory entry, in bytes. */
export const DENTRY_FIXED_SIZE = 102;
/** Fixed part of a stream entry, in bytes. */
export const STREAM_ENTRY_FIXED_SIZE = 38;
/** Size of the header at the start of a solid resource, in bytes. */
export const SOLID_HEADER_SIZE = 16;

/** Magic of a normal WIM: "MSWIM\0\0\0". */
export const WIM_MAGIC = Uint8Array.of(0x4d, 0x53, 0x57, 0x49, 0x4d, 0, 0, 0);
/** Magic of a pipable WIM (wimlib extension): "WLPWM\0\0\0". */
export const PIPABLE_WIM_MAGIC = Uint8Array.of(0x57, 0x4c, 0x50, 0x57, 0x4d, 0, 0, 0);

/** Version of non-solid WIMs (Vista and later). */
export const WIM_VERSION_DEFAULT = 0x10d00;
/** Version of WIMs with solid resources or LZMS. */
export const WIM_VERSION_SOLID = 0xe00;

/** Header flags (u32 at +0x10). */
export const HeaderFlag = {
  COMPRESSION: 0x2,
  READONLY: 0x4,
  SPANNED: 0x8,
  RESOURCE_ONLY: 0x10,
  METADATA_ONLY: 0x20,
  WRITE_IN_PROGRESS: 0x40,
  RP_FIX: 0x80,
  COMPRESS_RESERVED: 0x10000,
  COMPRESS_XPRESS: 0x20000,
  COMPRESS_LZX: 0x40000,
  COMPRESS_LZMS: 0x80000,
  COMPRESS_XPRESS_2: 0x200000,
} as const;

/** Resource header flags (byte 7 of a reshdr). */
export const ResourceFlag = {
  FREE: 0x1,
  METADATA: 0x2,
  COMPRESSED: 0x4,
  SPANNED: 0x8,
  SOLID: 0x10,
} as const;

/** The original-size value that marks a solid resource entry in the blob table. */
export const SOLID_RESOURCE_MAGIC_SIZE = 0x100000000;

/** File attributes (FILE_ATTRIBUTE_*). */
export const FileAttribute = {
  READONLY: 0x1,
  HIDDEN: 0x2,
  SYSTEM: 0x4,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  DEVICE: 0x40,
  NORMAL: 0x80,
  TEMPORARY: 0x100,
  SPARSE_FILE: 0x200,
  REPARSE_POINT: 0x400,
  COMPRESSED: 0x800,
  OFFLINE: 0x1000,
  NOT_CONTENT_INDEXED: 0x2000,
  ENCRYPTED: 0x4000,
} as const;

/** Reparse tags. */
export const ReparseTag = {
  MOUNT_POINT: 0xa0000003,
  SYMLINK: 0xa000000c,
  DEDUP: 0x80000013,
  WOF: 0x80000017,
} as const;

/** Tagged metadata item tags (wim-format.md §7.5). */
export const ItemTag = {
  OBJECT_ID: 0x1,
  XATTRS: 0x2,
  UNIX_DATA: 0x337dd873,
  LEGACY_XATTRS: 0x337dd874,
} as const;

/** Solid resource compression format ids (the 16-byte solid header). */
export const SOLID_FORMATS = ["none", "xpress", "lzx", "lzms"] as const;

/** Upper bounds on structures read from files, so no allocation depends on an unchecked field. */
export const Limits = {
  /** Largest metadata resource wimkit decodes. */
  MAX_METADATA_BYTES: 1 << 30,
  /** Largest XML document. */
  MAX_XML_BYTES: 64 << 20,
  /** Largest blob table. */
  MAX_BLOB_TABLE_BYTES: 1 << 30,
  /** Deepest directory nesting. */
  MAX_DENTRY_DEPTH: 16384,
  /** Largest image count in a header. */
  MAX_IMAGES: 65535,
  /** Largest chunk size of any codec (LZMS solid). */
  MAX_CHUNK_BYTES: 1 << 30,
} as const;
