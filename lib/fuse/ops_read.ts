/**
 * The read side of the FUSE operations: LOOKUP, FORGET, GETATTR, READLINK, OPEN, READ, OPENDIR,
 * READDIR, RELEASEDIR and STATFS, answered from the image view.
 */

import { direntType, FuseContext, FuseErrno, inodeNumber, type Reply } from "./context.ts";
import { Errno } from "./libc.ts";
import { childPath } from "./nodes.ts";
import {
  direntSize,
  encodeOpenOut,
  encodeStatfsOut,
  FOPEN_KEEP_CACHE,
  type FuseRequest,
  ReplyWriter,
  writeDirent,
} from "./protocol.ts";
import type { ViewEntry } from "../view/types.ts";

const O_ACCMODE = 0o3;
const O_RDONLY = 0;
const encoder = new TextEncoder();

/** LOOKUP: a name in a directory → entry_out. */
export function lookup(context: FuseContext, request: FuseRequest): Reply {
  const parent = context.nodePath(request);
  const name = request.name();
  if (encoder.encode(name).length > 255) throw new FuseErrno(Errno.ENAMETOOLONG);
  return context.entryReply(childPath(parent, name));
}

/** FORGET: the kernel dropped lookups of one node (no reply). */
export function forget(context: FuseContext, request: FuseRequest): Reply {
  context.nodes.forget(request.nodeId, request.u64());
  return null;
}

/** BATCH_FORGET: the same for many nodes (no reply). */
export function batchForget(context: FuseContext, request: FuseRequest): Reply {
  const count = request.u32();
  request.u32();
  for (let i = 0; i < count; i++) {
    const nodeId = request.u64();
    context.nodes.forget(nodeId, request.u64());
  }
  return null;
}

/** GETATTR → attr_out. */
export function getattr(context: FuseContext, request: FuseRequest): Reply {
  return context.attrReply(context.nodePath(request));
}

/** READLINK → the link target's bytes. */
export function readlink(context: FuseContext, request: FuseRequest): Reply {
  const entry = context.entry(context.nodePath(request));
  if (entry.kind !== "symlink" || entry.linkTarget === undefined) {
    throw new FuseErrno(Errno.EINVAL);
  }
  return encoder.encode(entry.linkTarget);
}

/** OPEN → open_out; writing needs a writable view (O_TRUNC arrives as a SETATTR first). */
export function open(context: FuseContext, request: FuseRequest): Reply {
  const flags = request.u32();
  const entry = context.entry(context.nodePath(request));
  if (entry.kind === "directory") throw new FuseErrno(Errno.EISDIR);
  if ((flags & O_ACCMODE) !== O_RDONLY) context.requireWritable();
  return encodeOpenOut(0n, context.view.writable ? 0 : FOPEN_KEEP_CACHE);
}

/** READ → up to `size` bytes at `offset`. */
export async function read(context: FuseContext, request: FuseRequest): Promise<Reply> {
  request.u64(); // fh
  const offset = request.u64Number();
  const size = request.u32();
  const path = context.nodePath(request);
  const entry = context.entry(path);
  if (entry.kind !== "file") throw new FuseErrno(Errno.EISDIR);
  if (offset >= entry.size) return new Uint8Array(0);
  return await context.view.read(path, offset, Math.min(size, entry.size - offset));
}

/** OPENDIR: snapshots the listing under a new handle, so READDIR offsets stay stable. */
export function opendir(context: FuseContext, request: FuseRequest): Reply {
  const path = context.nodePath(request);
  const entry = context.entry(path);
  if (entry.kind !== "directory") throw new FuseErrno(Errno.ENOTDIR);
  const parentPath = path === "/" ? "/" : path.slice(0, path.lastIndexOf("/")) || "/";
  const parent = context.view.stat(parentPath) ?? entry;
  const handle = context.newHandle();
  context.directories.set(handle, [
    { ...entry, name: "." },
    { ...parent, name: ".." },
    ...context.view.list(path),
  ]);
  return encodeOpenOut(handle, 0);
}

/** READDIR: as many `fuse_dirent`s from `offset` as fit in `size` bytes. */
export function readdir(context: FuseContext, request: FuseRequest): Reply {
  const handle = request.u64();
  const offset = request.u64Number();
  const size = request.u32();
  const listing = context.directories.get(handle);
  if (!listing) throw new FuseErrno(Errno.EBADF);
  const names: Uint8Array[] = [];
  let total = 0;
  for (let index = offset; index < listing.length; index++) {
    const name = encoder.encode(listing[index]!.name);
    if (total + direntSize(name.length) > size) break;
    names.push(name);
    total += direntSize(name.length);
  }
  const out = new ReplyWriter(total);
  names.forEach((name, i) => {
    const entry: ViewEntry = listing[offset + i]!;
    writeDirent(out, inodeNumber(entry), offset + i + 1, direntType(entry), name);
  });
  return out.bytes;
}

/** RELEASEDIR: drops the listing snapshot. */
export function releasedir(context: FuseContext, request: FuseRequest): Reply {
  context.directories.delete(request.u64());
  return new Uint8Array(0);
}

/** STATFS: a file system as big as its files, with free space only when writable. */
export function statfs(context: FuseContext): Reply {
  const root = context.view.stat("/");
  const blocks = Math.max(1, Math.ceil((root?.size ?? 0) / 4096));
  return encodeStatfsOut(blocks + 1, context.view.writable ? 1 << 24 : 0, context.nodes.size);
}

/** Replies that carry no body and do nothing (RELEASE, FLUSH, FSYNC, ACCESS...). */
export function nothing(): Reply {
  return new Uint8Array(0);
}
