/**
 * The host side of apply on POSIX: create directories, files, links and set owners, each
 * replacing what was at the path (removed, never written through). Synchronous on purpose: these
 * calls are several times cheaper than their async forms (stack.md §7) and apply issues one per
 * file.
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { WimkitError } from "../errors.ts";
import { osError } from "../io/file_source.ts";
import type { WarningTally } from "../progress.ts";
import type { ImageEntry } from "./image_tree.ts";

/** Creates a hard link at `path` to `existing`, replacing what was at `path`. */
export function createHardLink(existing: string, path: string): void {
  removeExisting(path);
  Deno.linkSync(existing, path);
}

/** Creates a symbolic link at `path`, replacing what was there. */
export function createSymlink(target: string, path: string): void {
  removeExisting(path);
  Deno.symlinkSync(target, path);
}

/** Copies a file's contents to `path`, replacing what was there. */
export function copyFile(from: string, path: string): void {
  removeExisting(path);
  Deno.copyFileSync(from, path);
}

/** Closes a descriptor from {@linkcode createFile}. */
export function closeFile(fd: number): void {
  closeSync(fd);
}

export function prepareTarget(target: string): void {
  try {
    const info = Deno.statSync(target);
    if (!info.isDirectory) {
      throw new WimkitError(
        `Cannot apply to "${target}": it exists and is not a directory`,
        "usage",
        {
          file: target,
        },
      );
    }
  } catch (error) {
    if (error instanceof WimkitError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) throw osError("Cannot apply to", target, error);
    try {
      Deno.mkdirSync(target, { recursive: true });
    } catch (mkdirError) {
      throw osError(`Cannot create "${target}"`, target, mkdirError);
    }
  }
}

export function ensureDirectory(path: string): void {
  try {
    const info = Deno.lstatSync(path);
    if (info.isDirectory) return;
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(path);
}

/** Removes whatever is at `path` (a link is removed, not followed). */
export function removeExisting(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Creates a new file at `path` (replacing what was there) and returns its descriptor. */
export function createFile(path: string): number {
  removeExisting(path);
  return openSync(path, "wx");
}

export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

const PERMISSION_BITS = 0o7777;

export function applyUnixData(
  entries: ImageEntry[],
  hostPath: (entry: ImageEntry) => string,
  tally: WarningTally,
): void {
  for (const entry of entries) {
    const unix = entry.unix;
    if (!unix) continue;
    const path = hostPath(entry);
    try {
      Deno.chownSync(path, unix.uid, unix.gid);
    } catch {
      tally.add("ownership", `/${entry.path}`);
    }
    Deno.chmodSync(path, unix.mode & PERMISSION_BITS);
  }
}
