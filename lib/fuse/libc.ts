/**
 * The few libc calls a FUSE server needs, through Deno FFI: open/close/read/write on /dev/fuse,
 * mount(2), umount2(2) and poll(2). The blocking read of the next request is a `nonblocking`
 * symbol, so each outstanding read waits on a thread of Deno's blocking pool while the event
 * loop keeps running; everything else is a short synchronous call.
 *
 * errno is thread-local, so it is only read after synchronous calls (same thread); a failed
 * read is interpreted with poll(2) instead (see {@linkcode Libc.connectionAborted}).
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  readNow: { name: "read", parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The loaded library: the raw symbols. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** open(2) flags and other constants used by the FUSE layer. */
export const O_RDWR = 0o2;
export const O_CLOEXEC = 0o2000000;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_RDONLY = 1;
export const MNT_DETACH = 2;
const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;

/** errno values the FUSE layer names (Linux, x86-64 and arm64 alike). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ENODATA: 61,
  EOPNOTSUPP: 95,
} as const;

let loaded: LibcSymbols | null | undefined;

/**
 * libc through FFI, or null when FFI is not granted or libc cannot be loaded.
 *
 * @example
 * ```ts
 * import { loadLibc } from "./libc.ts";
 * import assert from "node:assert/strict";
 * const libc = loadLibc();
 * assert.ok(libc === null || typeof libc.open === "function");
 * ```
 */
export function loadLibc(): LibcSymbols | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return loaded;
    loaded = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** errno of the last synchronous libc call on this thread. */
export function lastErrno(libc: LibcSymbols): number {
  const pointer = libc.__errno_location();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `text` for a `char *` parameter. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * True when the FUSE connection behind `fd` is gone (unmounted or aborted): poll(2) reports an
 * error or hang-up on it. Used after a failed read, whose errno lives on another thread.
 */
export function connectionAborted(libc: LibcSymbols, fd: number): boolean {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  const rc = libc.poll(pollfd, 1n, 0);
  if (rc < 0) return true;
  const revents = view.getInt16(6, true);
  return (revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0;
}

/**
 * Reads a small text file through libc: for /proc files that Deno only lets `--allow-all` read.
 * Returns null when it cannot be read.
 */
export function readProcFile(libc: LibcSymbols, path: string): string | null {
  const fd = libc.open(cString(path), O_CLOEXEC);
  if (fd < 0) return null;
  const parts: Uint8Array[] = [];
  try {
    for (let total = 0; total < 16 << 20;) {
      const buffer = new Uint8Array(65536);
      const count = Number(libc.readNow(fd, buffer, BigInt(buffer.length)));
      if (count <= 0) break;
      parts.push(buffer.subarray(0, count));
      total += count;
    }
  } finally {
    libc.close(fd);
  }
  const decoder = new TextDecoder();
  return parts.map((part) => decoder.decode(part, { stream: true })).join("") + decoder.decode();
}
