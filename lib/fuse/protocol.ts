/**
 * The FUSE kernel protocol on /dev/fuse (linux/fuse.h, protocol 7.x): request and reply headers,
 * opcodes, and the encoders for the reply structures wimkit sends. All integers are
 * little-endian on the platforms Deno runs on (x86-64, arm64); structures are 64-bit aligned.
 *
 * A request is one read(2) of the device: a 40-byte `fuse_in_header` followed by the opcode's
 * argument struct and NUL-terminated names. A reply is one write(2): a 16-byte
 * `fuse_out_header` (length, negative errno or 0, the request's `unique`) and the reply struct.
 */

import type { UnixTime } from "../fs/timestamps.ts";

/** Size of `struct fuse_in_header`. */
export const IN_HEADER_SIZE = 40;
/** Size of `struct fuse_out_header`. */
export const OUT_HEADER_SIZE = 16;
/** Size of `struct fuse_attr`. */
export const ATTR_SIZE = 88;
/** Size of `struct fuse_entry_out` (nodeid, generation, validity, attr). */
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
/** Size of `struct fuse_attr_out`. */
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
/** Size of `struct fuse_open_out`. */
export const OPEN_OUT_SIZE = 16;
/** Size of `struct fuse_init_out` (protocol 7.38). */
export const INIT_OUT_SIZE = 64;
/** Size of `struct fuse_kstatfs`. */
export const STATFS_OUT_SIZE = 80;
/** Node id of the root directory. */
export const ROOT_NODE_ID = 1n;
/** Major version of the protocol wimkit speaks. */
export const KERNEL_MAJOR = 7;
/** Highest minor version wimkit speaks (the reply structures above are those of 7.31+). */
export const KERNEL_MINOR = 31;

/** Opcodes (enum fuse_opcode). */
export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  RENAME2: 45,
} as const;

/** INIT flags wimkit may accept (a subset of what the kernel offers). */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  BIG_WRITES: 1 << 5,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
} as const;

/** SETATTR `valid` bits. */
export const SetattrValid = {
  MODE: 1 << 0,
  SIZE: 1 << 3,
  ATIME: 1 << 4,
  MTIME: 1 << 5,
  ATIME_NOW: 1 << 7,
  MTIME_NOW: 1 << 8,
} as const;

/** fuse_open_out flags. */
export const FOPEN_KEEP_CACHE = 1 << 1;
/** renameat2 flags. */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;

/** File type bits of a mode. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

const decoder = new TextDecoder();

/** One request read from /dev/fuse, with a cursor over its arguments. */
export class FuseRequest {
  /** Total length in bytes. */
  readonly length: number;
  readonly opcode: number;
  /** The id the reply must carry. */
  readonly unique: bigint;
  /** The node the request is about (a directory for name operations). */
  readonly nodeId: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = IN_HEADER_SIZE;

  /**
   * Decodes the header of the request in `bytes` (exactly the bytes read).
   *
   * @example
   * ```ts
   * import { FuseRequest, Opcode } from "./protocol.ts";
   * import assert from "node:assert/strict";
   * const bytes = new Uint8Array(46);
   * const view = new DataView(bytes.buffer);
   * view.setUint32(0, 46, true);
   * view.setUint32(4, Opcode.LOOKUP, true);
   * view.setBigUint64(8, 7n, true);
   * view.setBigUint64(16, 1n, true);
   * bytes.set(new TextEncoder().encode("hello\0"), 40);
   * const request = new FuseRequest(bytes);
   * assert.ok(request.opcode === Opcode.LOOKUP && request.name() === "hello");
   * ```
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length < IN_HEADER_SIZE) throw new RangeError(`short FUSE request: ${bytes.length}`);
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = this.#view.getUint32(0, true);
    this.opcode = this.#view.getUint32(4, true);
    this.unique = this.#view.getBigUint64(8, true);
    this.nodeId = this.#view.getBigUint64(16, true);
    this.uid = this.#view.getUint32(24, true);
    this.gid = this.#view.getUint32(28, true);
    this.pid = this.#view.getUint32(32, true);
  }

  /** Reads a u32 argument. */
  u32(): number {
    const value = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  /** Reads a u64 argument as a bigint. */
  u64(): bigint {
    const value = this.#view.getBigUint64(this.#offset, true);
    this.#offset += 8;
    return value;
  }

  /** Reads a u64 argument as a number (sizes and offsets). */
  u64Number(): number {
    return Number(this.u64());
  }

  /** Skips `count` bytes of arguments. */
  skip(count: number): void {
    this.#offset += count;
  }

  /** Reads a NUL-terminated name. */
  name(): string {
    const end = this.#bytes.indexOf(0, this.#offset);
    const stop = end < 0 ? this.#bytes.length : end;
    const text = decoder.decode(this.#bytes.subarray(this.#offset, stop));
    this.#offset = stop + 1;
    return text;
  }

  /** The next `count` bytes (a view into the request buffer; copy before keeping it). */
  bytes(count: number): Uint8Array {
    const out = this.#bytes.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return out;
  }
}

/** What a `fuse_attr` carries. */
export interface FuseAttr {
  ino: number;
  size: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Times as whole seconds and nanoseconds since 1970, sent exactly. */
  atime: UnixTime;
  mtime: UnixTime;
  ctime: UnixTime;
}

/** A little-endian writer over a reply buffer. */
export class ReplyWriter {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  #offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.#offset;
  }

  u16(value: number): this {
    this.#view.setUint16(this.#offset, value, true);
    this.#offset += 2;
    return this;
  }

  u32(value: number): this {
    this.#view.setUint32(this.#offset, value >>> 0, true);
    this.#offset += 4;
    return this;
  }

  u64(value: number | bigint): this {
    this.#view.setBigUint64(this.#offset, BigInt.asUintN(64, BigInt(value)), true);
    this.#offset += 8;
    return this;
  }

  /** Writes the seconds of a time (u64, two's complement before 1970) and returns its nanoseconds. */
  seconds(time: UnixTime): number {
    this.u64(time.seconds);
    return time.nanoseconds;
  }

  raw(data: Uint8Array): this {
    this.bytes.set(data, this.#offset);
    this.#offset += data.length;
    return this;
  }

  /** Advances to the next multiple of 8 (zero padding). */
  align8(): this {
    this.#offset = (this.#offset + 7) & ~7;
    return this;
  }
}

/** Writes a `fuse_attr`. */
export function writeAttr(out: ReplyWriter, attr: FuseAttr): void {
  out.u64(attr.ino).u64(attr.size).u64(Math.ceil(attr.size / 512));
  const atimeNs = out.seconds(attr.atime);
  const mtimeNs = out.seconds(attr.mtime);
  const ctimeNs = out.seconds(attr.ctime);
  out.u32(atimeNs).u32(mtimeNs).u32(ctimeNs);
  out.u32(attr.mode).u32(attr.nlink).u32(attr.uid).u32(attr.gid);
  out.u32(0); // rdev
  out.u32(4096); // blksize
  out.u32(0); // flags
}

/** Splits a validity in seconds into whole seconds and nanoseconds. */
function writeValidity(out: ReplyWriter, seconds: number): void {
  out.u64(Math.floor(seconds));
}

/**
 * Encodes a `fuse_entry_out` (LOOKUP, MKDIR, CREATE... replies).
 *
 * @example
 * ```ts
 * import { encodeEntryOut, ENTRY_OUT_SIZE } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const zero = { seconds: 0n, nanoseconds: 0 };
 * const attr = { ino: 5, size: 3, mode: 0o100644, nlink: 1, uid: 0, gid: 0,
 *   atime: zero, mtime: { seconds: 1n, nanoseconds: 500_000_000 }, ctime: zero };
 * const bytes = encodeEntryOut(9n, attr, 1);
 * assert.ok(bytes.length === ENTRY_OUT_SIZE);
 * assert.ok(new DataView(bytes.buffer).getBigUint64(0, true) === 9n);
 * ```
 */
export function encodeEntryOut(
  nodeId: bigint,
  attr: FuseAttr,
  validSeconds: number,
): Uint8Array<ArrayBuffer> {
  const out = new ReplyWriter(ENTRY_OUT_SIZE);
  out.u64(nodeId).u64(0);
  writeValidity(out, validSeconds);
  writeValidity(out, validSeconds);
  out.u32(0).u32(0);
  writeAttr(out, attr);
  return out.bytes;
}

/** Encodes a `fuse_attr_out` (GETATTR and SETATTR replies). */
export function encodeAttrOut(attr: FuseAttr, validSeconds: number): Uint8Array<ArrayBuffer> {
  const out = new ReplyWriter(ATTR_OUT_SIZE);
  writeValidity(out, validSeconds);
  out.u32(0).u32(0);
  writeAttr(out, attr);
  return out.bytes;
}

/** Encodes a `fuse_open_out` with file handle `handle`. */
export function encodeOpenOut(handle: bigint, openFlags: number): Uint8Array<ArrayBuffer> {
  return new ReplyWriter(OPEN_OUT_SIZE).u64(handle).u32(openFlags).u32(0).bytes;
}

/** Encodes a `fuse_write_out`. */
export function encodeWriteOut(size: number): Uint8Array<ArrayBuffer> {
  return new ReplyWriter(8).u32(size).u32(0).bytes;
}

/** Encodes a `fuse_kstatfs` describing a file system of `blocks` 4 KiB blocks. */
export function encodeStatfsOut(
  blocks: number,
  freeBlocks: number,
  files: number,
): Uint8Array<ArrayBuffer> {
  const out = new ReplyWriter(STATFS_OUT_SIZE);
  out.u64(blocks).u64(freeBlocks).u64(freeBlocks).u64(files).u64(freeBlocks > 0 ? 1 << 20 : 0);
  out.u32(4096).u32(255).u32(4096);
  return out.bytes;
}

/** Size of one `fuse_dirent` holding a name of `nameBytes` bytes, padded to 8. */
export function direntSize(nameBytes: number): number {
  return (24 + nameBytes + 7) & ~7;
}

/** Writes a `fuse_dirent`; `type` is the DT_* value (mode >> 12). */
export function writeDirent(
  out: ReplyWriter,
  ino: number,
  nextOffset: number,
  type: number,
  name: Uint8Array,
): void {
  out.u64(ino).u64(nextOffset).u32(name.length).u32(type).raw(name).align8();
}

/**
 * Encodes a whole reply: the `fuse_out_header` for `unique` with `error` (0 or a positive errno,
 * sent negated) followed by `body`.
 */
export function encodeReply(
  unique: bigint,
  error: number,
  body?: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const length = OUT_HEADER_SIZE + (body?.length ?? 0);
  const out = new ReplyWriter(length).u32(length).u32(-error | 0).u64(unique);
  if (body) out.raw(body);
  return out.bytes;
}
