/**
 * What every FUSE operation handler shares: the image view, the node table, the attribute
 * policy (owner, default modes, cache validity) and the mapping from view errors to errno.
 */

import { filetimeToUnix, type UnixTime } from "../fs/timestamps.ts";
import type { ImageView, ViewEntry } from "../view/types.ts";
import { ViewError } from "../view/types.ts";
import { Errno } from "./libc.ts";
import { NodeTable } from "./nodes.ts";
import {
  encodeAttrOut,
  encodeEntryOut,
  type FuseAttr,
  type FuseRequest,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
} from "./protocol.ts";

/** An operation failed with an errno (positive) to send back to the kernel. */
export class FuseErrno extends Error {
  readonly errno: number;
  constructor(errno: number, message = `errno ${errno}`) {
    super(message);
    this.errno = errno;
  }
}

/** How the mount presents files. */
export interface ServeOptions {
  /** Owner shown for every file (default: the server's uid). */
  uid?: number;
  /** Group shown for every file (default: the server's gid). */
  gid?: number;
  /** Seconds the kernel may cache names and attributes (default 60 read-only, 1 writable). */
  cacheSeconds?: number;
  /** Called with errors that are not the client's fault (answered EIO); lib never prints. */
  onError?: (error: unknown) => void;
}

/** The reply body of a request, or null when the opcode takes no reply. */
export type Reply = Uint8Array | null;

/**
 * Maps an error thrown by a view operation to an errno.
 *
 * @example
 * ```ts
 * import { errnoFor } from "./context.ts";
 * import { ViewError } from "../view/types.ts";
 * import assert from "node:assert/strict";
 * assert.ok(errnoFor(new ViewError("no /x", "not-found", "/x")) === 2);
 * ```
 */
export function errnoFor(error: unknown): number {
  if (error instanceof FuseErrno) return error.errno;
  if (error instanceof ViewError) {
    switch (error.reason) {
      case "not-found":
        return Errno.ENOENT;
      case "exists":
        return Errno.EEXIST;
      case "not-directory":
        return Errno.ENOTDIR;
      case "is-directory":
        return Errno.EISDIR;
      case "not-empty":
        return Errno.ENOTEMPTY;
      case "read-only":
        return Errno.EROFS;
      case "invalid":
        return Errno.EINVAL;
    }
  }
  return Errno.EIO;
}

const DEFAULT_PERMISSIONS = { directory: 0o755, file: 0o644, symlink: 0o777 } as const;
const TYPE_BITS = { directory: S_IFDIR, file: S_IFREG, symlink: S_IFLNK } as const;

/** The state one mounted view's handlers share. */
export class FuseContext {
  readonly view: ImageView;
  readonly nodes: NodeTable = new NodeTable();
  readonly uid: number;
  readonly gid: number;
  readonly cacheSeconds: number;
  readonly onError: (error: unknown) => void;
  /** Open directory handles: a listing snapshot per OPENDIR. */
  readonly directories = new Map<bigint, ViewEntry[]>();
  #nextHandle = 1n;

  constructor(view: ImageView, options: ServeOptions = {}) {
    this.view = view;
    this.uid = options.uid ?? Deno.uid() ?? 0;
    this.gid = options.gid ?? Deno.gid() ?? 0;
    this.cacheSeconds = options.cacheSeconds ?? (view.writable ? 1 : 60);
    this.onError = options.onError ?? (() => {});
  }

  /** A fresh file or directory handle. */
  newHandle(): bigint {
    return this.#nextHandle++;
  }

  /** The path of the request's node; ENOENT when the node is unknown or was removed. */
  nodePath(request: FuseRequest): string {
    const path = this.nodes.path(request.nodeId);
    if (path === undefined) throw new FuseErrno(Errno.ENOENT);
    return path;
  }

  /** The entry at `path`; ENOENT when missing. */
  entry(path: string): ViewEntry {
    const entry = this.view.stat(path);
    if (!entry) throw new FuseErrno(Errno.ENOENT);
    return entry;
  }

  /** EROFS unless the view takes changes. */
  requireWritable(): void {
    if (!this.view.writable) throw new FuseErrno(Errno.EROFS);
  }

  /** The `fuse_attr` of a view entry. */
  attr(entry: ViewEntry): FuseAttr {
    const permissions = entry.mode !== undefined
      ? entry.mode & 0o7777
      : DEFAULT_PERMISSIONS[entry.kind];
    return {
      ino: inodeNumber(entry),
      size: entry.size,
      mode: TYPE_BITS[entry.kind] | permissions,
      nlink: entry.kind === "directory" ? 2 : Math.max(1, entry.links),
      uid: this.uid,
      gid: this.gid,
      atime: exactTime(entry.filetimes?.lastAccess, entry.lastAccessTime),
      mtime: exactTime(entry.filetimes?.lastWrite, entry.lastWriteTime),
      ctime: exactTime(entry.filetimes?.lastWrite, entry.lastWriteTime),
    };
  }

  /** A `fuse_entry_out` for `path`, counting one kernel lookup of it. */
  entryReply(path: string): Uint8Array {
    const entry = this.entry(path);
    return encodeEntryOut(this.nodes.lookup(path), this.attr(entry), this.cacheSeconds);
  }

  /** A `fuse_attr_out` for `path`. */
  attrReply(path: string): Uint8Array {
    return encodeAttrOut(this.attr(this.entry(path)), this.cacheSeconds);
  }
}

/** A view time as seconds and nanoseconds: exact from its FILETIME, else from milliseconds. */
function exactTime(filetime: bigint | undefined, ms: number): UnixTime {
  if (filetime !== undefined) return filetimeToUnix(filetime);
  const nanos = BigInt(Math.round(ms * 1e6));
  const seconds = nanos / 1_000_000_000n - (nanos % 1_000_000_000n < 0n ? 1n : 0n);
  return { seconds, nanoseconds: Number(nanos - seconds * 1_000_000_000n) };
}

/** The st_ino of an entry: its view id plus one, so no file has inode 0. */
export function inodeNumber(entry: ViewEntry): number {
  return entry.id + 1;
}

/** The directory-entry type (DT_*) of a view entry. */
export function direntType(entry: ViewEntry): number {
  return TYPE_BITS[entry.kind] >> 12;
}
