/**
 * The contract between an image seen as a directory tree (lib/view/image_view.ts) and the
 * servers that expose it: WebDAV (`serve`) and FUSE (`mount`). Paths are image paths with "/"
 * separators, "/" being the root; they are never host paths.
 *
 * Implementation (available now): `openImageView(wimPath, image, { writable, stagingDir, pool,
 * cacheBytes })` in lib/view/image_view.ts. Notes for servers: `linkTarget` of an absolute link is
 * an image path ("/dir/a"), or under `linkRoot` (a mount point) when it was captured with fix-ups; `read`/`stream` of a symlink
 * throw ViewError "invalid"; `read` calls that continue where the previous read of the same file
 * ended get read-ahead, so FUSE's sequential 128 KiB reads are pipelined; while a commit or
 * discard runs, changes throw ViewError "read-only" (reads keep working); a writable view holds
 * an exclusive flock on the WIM until disposed, so a second writable view on it is refused.
 */

import { WimkitError } from "../errors.ts";

/** What a path is. */
export type ViewKind = "file" | "directory" | "symlink";

/**
 * Exact times as FILETIMEs: 100 ns ticks since 1601-01-01 UTC, as the WIM stores them
 * (lib/fs/timestamps.ts converts them to Unix seconds and nanoseconds).
 */
export interface ViewFiletimes {
  readonly creation: bigint;
  readonly lastWrite: bigint;
  readonly lastAccess: bigint;
}

/**
 * New times for {@linkcode ImageView.setTimes}: milliseconds since 1970, or exact FILETIMEs in
 * `filetimes`, which win over the milliseconds when both are given.
 */
export interface ViewTimes {
  readonly lastWriteTime?: number;
  readonly lastAccessTime?: number;
  readonly filetimes?: { readonly lastWrite?: bigint; readonly lastAccess?: bigint };
}

/** One entry of the view, as stat() sees it. */
export interface ViewEntry {
  /** Absolute image path ("/" for the root). */
  readonly path: string;
  /** Last path component ("" for the root). */
  readonly name: string;
  readonly kind: ViewKind;
  /** Size of the unnamed data stream in bytes (0 for directories; target length for symlinks). */
  readonly size: number;
  /** Stable identity while the view lives: hard links share it (FUSE inode numbers, ETags). */
  readonly id: number;
  /** Number of names of this file (hard links); 1 for most entries. */
  readonly links: number;
  /**
   * Times in milliseconds since 1970, with a fraction; a double keeps about 0.25 µs of it at
   * today's dates, so use {@linkcode ViewEntry.filetimes} where 100 ns matter.
   */
  readonly creationTime: number;
  readonly lastWriteTime: number;
  readonly lastAccessTime: number;
  /**
   * The same times exactly, as stored in the WIM. Views made by openImageView always set it;
   * when absent, derive the times from the milliseconds.
   */
  readonly filetimes?: ViewFiletimes;
  /** POSIX mode bits (permissions and type) from UNIX data, when the image has them. */
  readonly mode?: number;
  /** Target of a symbolic link, as the host should see it. */
  readonly linkTarget?: string;
  /** SHA-1 of the content (lower-case hex) when unchanged since the view opened; a strong ETag. */
  readonly hash?: string;
  /** True when the entry was created or changed in this view and is not yet committed. */
  readonly changed: boolean;
}

/** Result of {@linkcode ImageView.commit}. */
export interface CommitResult {
  /** 1-based index of the image that now holds the changes. */
  readonly image: number;
  /** Bytes of new content written to the WIM. */
  readonly newBytes: number;
}

/** Why a view operation failed; servers map it to an HTTP status or an errno. */
export type ViewErrorReason =
  | "not-found"
  | "exists"
  | "not-directory"
  | "is-directory"
  | "not-empty"
  | "read-only"
  | "invalid";

/**
 * A view operation failed for a reason the client caused (missing path, name taken...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ViewError } from "./types.ts";
 * const error = new ViewError("no /a in the image", "not-found", "/a");
 * assert.ok(error.reason === "not-found" && error.code === "not-found");
 * assert.equal(new ViewError("taken", "exists", "/a").code, "usage");
 * ```
 */
export class ViewError extends WimkitError {
  /** What went wrong, for status codes and errnos. */
  readonly reason: ViewErrorReason;
  constructor(message: string, reason: ViewErrorReason, path: string) {
    super(message, reason === "not-found" ? "not-found" : "usage", { path });
    this.reason = reason;
  }
}

/**
 * An image of a WIM as a tree that can be read, and, when opened for writing, changed in a staging
 * area and committed as an update (or as a new image). Client mistakes throw {@linkcode ViewError};
 * anything else (I/O, a corrupt WIM) is a WimkitError of its own kind.
 */
export interface ImageView extends AsyncDisposable {
  /** True when changes are allowed. */
  readonly writable: boolean;
  /** True when there are uncommitted changes. */
  readonly dirty: boolean;
  /** The entry at `path`, or undefined. */
  stat(path: string): ViewEntry | undefined;
  /** The entries of directory `path`, sorted by name. */
  list(path: string): ViewEntry[];
  /** Reads up to `length` bytes of file `path` at `offset` (shorter only at end of file). */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Streams file `path` from `offset` to `end` (exclusive; default: end of file). */
  stream(path: string, offset?: number, end?: number): ReadableStream<Uint8Array>;

  /** Creates or replaces file `path` with the bytes of `body`; the parent must exist. */
  writeFile(path: string, body: ReadableStream<Uint8Array> | Uint8Array): Promise<ViewEntry>;
  /** Writes `data` at `offset` into file `path` (created empty when missing), growing it as needed. */
  write(path: string, offset: number, data: Uint8Array): Promise<void>;
  /** Sets the size of file `path`, cutting or zero-filling. */
  truncate(path: string, size: number): Promise<void>;
  /** Creates directory `path`; the parent must exist. */
  mkdir(path: string): void;
  /** Creates a symbolic link at `path` pointing to `target`. */
  symlink(path: string, target: string): void;
  /** Removes file, link or directory `path` (directories with their contents when `recursive`). */
  remove(path: string, options?: { recursive?: boolean }): void;
  /** Moves `from` to `to`; replaces an existing `to` only with `overwrite`. */
  move(from: string, to: string, options?: { overwrite?: boolean }): void;
  /** Copies `from` to `to` (directories deeply), sharing unchanged content. */
  copy(from: string, to: string, options?: { overwrite?: boolean; recursive?: boolean }): void;
  /** Sets times of `path`: milliseconds since 1970, or exact FILETIMEs (see ViewTimes). */
  setTimes(path: string, times: ViewTimes): void;

  /**
   * Writes the changes into the WIM: as an update of the image (default) or as a new appended
   * image named `newImage`. The WIM is valid at every moment (appendToWim's guarantees).
   */
  commit(options?: { newImage?: string }): Promise<CommitResult>;
  /** Drops every uncommitted change. */
  discard(): Promise<void>;
}
