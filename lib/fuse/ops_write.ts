/**
 * The write side of the FUSE operations (mounts with `--rw`): SETATTR, CREATE, MKNOD, WRITE,
 * MKDIR, SYMLINK, UNLINK, RMDIR and RENAME/RENAME2, staged in the image view until commit.
 * Ownership and permission changes are accepted and ignored (the view keeps no owners), so
 * `cp -a` into the mount succeeds; hard links (LINK) are refused with EPERM.
 */

import { unixToFiletime } from "../fs/timestamps.ts";
import { filetimeToMs } from "../view/node_info.ts";
import type { ViewTimes } from "../view/types.ts";
import { FuseContext, FuseErrno, type Reply } from "./context.ts";
import { Errno } from "./libc.ts";
import { childPath } from "./nodes.ts";
import {
  encodeOpenOut,
  encodeWriteOut,
  type FuseRequest,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFMT,
  S_IFREG,
  SetattrValid,
} from "./protocol.ts";

const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const encoder = new TextEncoder();

function newChildPath(context: FuseContext, request: FuseRequest, name: string): string {
  context.requireWritable();
  if (encoder.encode(name).length > 255) throw new FuseErrno(Errno.ENAMETOOLONG);
  const parent = context.entry(context.nodePath(request));
  if (parent.kind !== "directory") throw new FuseErrno(Errno.ENOTDIR);
  return childPath(parent.path, name);
}

/** SETATTR: size (truncate) and times; mode, owner and group are accepted and ignored. */
export async function setattr(context: FuseContext, request: FuseRequest): Promise<Reply> {
  const valid = request.u32();
  request.u32(); // padding
  request.u64(); // fh
  const size = request.u64Number();
  request.u64(); // lock_owner
  const atime = request.u64();
  const mtime = request.u64();
  request.u64(); // ctime
  const atimeNs = request.u32();
  const mtimeNs = request.u32();
  const path = context.nodePath(request);
  const entry = context.entry(path);
  const touchesContent = valid & (SetattrValid.SIZE | SetattrValid.ATIME | SetattrValid.MTIME);
  if (touchesContent) context.requireWritable();
  if (valid & SetattrValid.SIZE) {
    if (entry.kind === "directory") throw new FuseErrno(Errno.EISDIR);
    await context.view.truncate(path, size);
  }
  // Exact FILETIMEs (utimensat's nanoseconds cut to 100 ns); "now" has milliseconds only.
  const now = BigInt(Date.now());
  const exact = (seconds: bigint, nanos: number, isNow: number) =>
    isNow
      ? unixToFiletime({ seconds: now / 1000n, nanoseconds: Number(now % 1000n) * 1e6 })
      : unixToFiletime({ seconds: BigInt.asIntN(64, seconds), nanoseconds: nanos });
  const lastWrite = valid & SetattrValid.MTIME
    ? exact(mtime, mtimeNs, valid & SetattrValid.MTIME_NOW)
    : undefined;
  const lastAccess = valid & SetattrValid.ATIME
    ? exact(atime, atimeNs, valid & SetattrValid.ATIME_NOW)
    : undefined;
  if (lastWrite !== undefined || lastAccess !== undefined) {
    context.view.setTimes(path, viewTimes(lastWrite, lastAccess));
  }
  return context.attrReply(path);
}

/** New times as FILETIMEs, with their milliseconds for views that only read those. */
function viewTimes(lastWrite: bigint | undefined, lastAccess: bigint | undefined): ViewTimes {
  return {
    ...(lastWrite === undefined ? {} : { lastWriteTime: filetimeToMs(lastWrite) }),
    ...(lastAccess === undefined ? {} : { lastAccessTime: filetimeToMs(lastAccess) }),
    filetimes: {
      ...(lastWrite === undefined ? {} : { lastWrite }),
      ...(lastAccess === undefined ? {} : { lastAccess }),
    },
  };
}

/** CREATE: a new empty file (or the existing one, cut with O_TRUNC), opened. */
export async function create(context: FuseContext, request: FuseRequest): Promise<Reply> {
  const flags = request.u32();
  request.skip(12); // mode, umask, open_flags
  const path = newChildPath(context, request, request.name());
  const existing = context.view.stat(path);
  if (existing && flags & O_EXCL) throw new FuseErrno(Errno.EEXIST);
  if (existing?.kind === "directory") throw new FuseErrno(Errno.EISDIR);
  if (!existing) await context.view.writeFile(path, new Uint8Array(0));
  else if (flags & O_TRUNC) await context.view.truncate(path, 0);
  const entry = context.entryReply(path);
  const opened = encodeOpenOut(0n, 0);
  const body = new Uint8Array(entry.length + opened.length);
  body.set(entry);
  body.set(opened, entry.length);
  return body;
}

/** MKNOD: regular files only (devices, FIFOs and sockets cannot be stored here). */
export async function mknod(context: FuseContext, request: FuseRequest): Promise<Reply> {
  const mode = request.u32();
  request.skip(12); // rdev, umask, padding
  const path = newChildPath(context, request, request.name());
  if ((mode & S_IFMT) !== S_IFREG) throw new FuseErrno(Errno.EPERM);
  if (context.view.stat(path)) throw new FuseErrno(Errno.EEXIST);
  await context.view.writeFile(path, new Uint8Array(0));
  return context.entryReply(path);
}

/** WRITE: `size` bytes at `offset`; the data is copied out of the request buffer first. */
export async function write(context: FuseContext, request: FuseRequest): Promise<Reply> {
  request.u64(); // fh
  const offset = request.u64Number();
  const size = request.u32();
  request.skip(20); // write_flags, lock_owner, flags, padding
  context.requireWritable();
  const data = request.bytes(size).slice();
  await context.view.write(context.nodePath(request), offset, data);
  return encodeWriteOut(data.length);
}

/** MKDIR → entry_out of the new directory. */
export function mkdir(context: FuseContext, request: FuseRequest): Reply {
  request.skip(8); // mode, umask
  const path = newChildPath(context, request, request.name());
  context.view.mkdir(path);
  return context.entryReply(path);
}

/** SYMLINK: the request carries the new name, then the target. */
export function symlink(context: FuseContext, request: FuseRequest): Reply {
  const name = request.name();
  const target = request.name();
  const path = newChildPath(context, request, name);
  if (context.view.stat(path)) throw new FuseErrno(Errno.EEXIST);
  context.view.symlink(path, target);
  return context.entryReply(path);
}

/** UNLINK: a file or link, never a directory. */
export function unlink(context: FuseContext, request: FuseRequest): Reply {
  const path = newChildPath(context, request, request.name());
  if (context.entry(path).kind === "directory") throw new FuseErrno(Errno.EISDIR);
  context.view.remove(path);
  context.nodes.removed(path);
  return new Uint8Array(0);
}

/** RMDIR: an empty directory only. */
export function rmdir(context: FuseContext, request: FuseRequest): Reply {
  const path = newChildPath(context, request, request.name());
  if (context.entry(path).kind !== "directory") throw new FuseErrno(Errno.ENOTDIR);
  if (context.view.list(path).length > 0) throw new FuseErrno(Errno.ENOTEMPTY);
  context.view.remove(path);
  context.nodes.removed(path);
  return new Uint8Array(0);
}

/** RENAME (`rename2` false) and RENAME2 (with flags) with rename(2)'s replacement rules. */
export function rename(context: FuseContext, request: FuseRequest, rename2: boolean): Reply {
  const newParentId = request.u64();
  const flags = rename2 ? request.u32() : 0;
  if (rename2) request.u32();
  const from = newChildPath(context, request, request.name());
  const newParent = context.nodes.path(newParentId);
  if (newParent === undefined) throw new FuseErrno(Errno.ENOENT);
  const to = childPath(newParent, request.name());
  if (flags & RENAME_EXCHANGE || flags & ~RENAME_NOREPLACE) throw new FuseErrno(Errno.EINVAL);
  const source = context.entry(from);
  if (from === to) return new Uint8Array(0);
  if (to.startsWith(from + "/")) throw new FuseErrno(Errno.EINVAL);
  const target = context.view.stat(to);
  if (target) {
    if (flags & RENAME_NOREPLACE) throw new FuseErrno(Errno.EEXIST);
    if (target.kind === "directory" && source.kind !== "directory") {
      throw new FuseErrno(Errno.EISDIR);
    }
    if (target.kind !== "directory" && source.kind === "directory") {
      throw new FuseErrno(Errno.ENOTDIR);
    }
    if (target.kind === "directory" && context.view.list(to).length > 0) {
      throw new FuseErrno(Errno.ENOTEMPTY);
    }
  }
  context.view.move(from, to, { overwrite: target !== undefined });
  context.nodes.rename(from, to);
  return new Uint8Array(0);
}
