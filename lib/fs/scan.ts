/**
 * Scans a source directory for capture (lstat semantics, nothing read yet): files, directories,
 * empty files, hard links (one inode per group), symbolic links as reparse points the way wimlib
 * stores them on Linux, times at 100 ns, UNIX data when asked. Unreadable and special files are
 * skipped with a counted warning, or fail the scan with `strict`.
 */

import { closeSync, openSync, readSync } from "node:fs";
import { WimkitError } from "../errors.ts";
import { FileAttribute } from "../format/constants.ts";
import { encodePosixSymlink } from "../format/reparse.ts";
import type { OperationOptions, Warning, WarningCode } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { ContentSource, NewNode } from "../wim/new_image.ts";
import { type CaptureConfig, isExcluded, matchesAny } from "./capture_config.ts";
import { preciseLstat, type PreciseStat } from "./timestamps.ts";

/** Options for {@linkcode scanTree}. */
export interface ScanOptions extends OperationOptions {
  /** Store mode, owner and device numbers, and capture special files (wimlib's --unix-data). */
  unixData?: boolean;
  /** Fail on unreadable or special files instead of skipping them. */
  strict?: boolean;
  /** Rewrite absolute links that point inside the source to be relative to it (default true). */
  rpfix?: boolean;
  /** Exclusions and compression exclusions. */
  config?: CaptureConfig;
}

/** What {@linkcode scanTree} found. */
export interface ScanResult {
  /** The image tree. */
  readonly root: NewNode;
  /** Counts. */
  readonly files: number;
  readonly directories: number;
  /** Bytes of file data (each hard-linked file counted once). */
  readonly bytes: number;
  /** Skipped entries, one warning per kind. */
  readonly warnings: Warning[];
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const READ_BUFFER_BYTES = 1 << 20;

const WARNINGS: Partial<Record<WarningCode, string>> = {
  "special-file":
    "Skipped {n} special files (FIFOs, sockets, devices; use --unix-data to keep them; first: {e})",
  "unreadable": "Skipped {n} unreadable entries (first: {e})",
};

/**
 * Builds the image tree of `source` (a directory).
 *
 * @throws {WimkitError} If `source` is not a readable directory, or with `strict` on the first
 *   unreadable or special file.
 *
 * @example
 * ```ts
 * import { scanTree } from "./scan.ts";
 * import assert from "node:assert/strict";
 * const result = await scanTree("tests/fixtures");
 * assert.ok(result.files > 0);
 * ```
 */
export async function scanTree(source: string, options: ScanOptions = {}): Promise<ScanResult> {
  let rootStat: PreciseStat;
  try {
    rootStat = preciseLstat(source);
  } catch (error) {
    throw new WimkitError(`Cannot capture "${source}": ${reason(error)}`, reasonCode(error), {
      file: source,
      cause: error,
    });
  }
  if ((rootStat.mode & S_IFMT) !== S_IFDIR) {
    throw new WimkitError(`Cannot capture "${source}": not a directory`, "usage", { file: source });
  }
  const roots = [absolute(source), await Deno.realPath(source)];
  const tally = new WarningTally();
  const counts = { files: 0, directories: 0, bytes: 0 };
  const inodes = new Set<string>();
  const root = nodeFor("", rootStat, options);
  const stack: { node: NewNode; path: string; relative: string }[] = [{
    node: root,
    path: source,
    relative: "",
  }];
  counts.directories++;
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const { node, path, relative } = stack.pop()!;
    let names: string[];
    try {
      names = (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name);
    } catch (error) {
      skip(tally, options, "unreadable", relative || "/", error);
      continue;
    }
    node.children = [];
    for (const name of names) {
      const childPath = `${path}/${name}`;
      const childRelative = `${relative}/${name}`;
      if (options.config && isExcluded(options.config, childRelative)) continue;
      let stat: PreciseStat;
      try {
        stat = preciseLstat(childPath);
      } catch (error) {
        skip(tally, options, "unreadable", childRelative, error);
        continue;
      }
      const type = stat.mode & S_IFMT;
      const child = nodeFor(name, stat, options);
      if (type === S_IFDIR) {
        counts.directories++;
        stack.push({ node: child, path: childPath, relative: childRelative });
      } else if (type === S_IFREG) {
        if (!isReadable(childPath)) {
          skip(tally, options, "unreadable", childRelative, new Error("permission denied"));
          continue;
        }
        counts.files++;
        if (stat.nlink > 1) child.inode = `${stat.dev}:${stat.ino}`;
        if (stat.size > 0) child.content = fileSource(childPath, stat.size);
        if (!child.inode || !inodes.has(child.inode)) counts.bytes += stat.size;
        if (child.inode) inodes.add(child.inode);
        if (options.config && matchesAny(options.config.noCompress, childRelative)) {
          child.noCompress = true;
        }
      } else if (type === S_IFLNK) {
        counts.files++;
        child.reparse = await symlinkReparse(childPath, roots, options.rpfix ?? true);
        child.attributes = FileAttribute.REPARSE_POINT |
          (await isDirectoryTarget(childPath) ? FileAttribute.DIRECTORY : 0);
      } else if (options.unixData) {
        counts.files++;
        child.attributes = 0;
      } else {
        skip(tally, options, "special-file", childRelative);
        continue;
      }
      node.children.push(child);
    }
    options.onProgress?.({ type: "scan", ...counts, path: relative || "/" });
  }
  const warnings = tally.warnings((n, code, example) =>
    (WARNINGS[code] ?? "{n} {e}").replace("{n}", String(n)).replace("{e}", example)
  );
  for (const warning of warnings) options.onProgress?.({ type: "warning", ...warning });
  return { root, ...counts, warnings };
}

function nodeFor(name: string, stat: PreciseStat, options: ScanOptions): NewNode {
  const type = stat.mode & S_IFMT;
  const sparse = type === S_IFREG && stat.blocks * 512 < stat.size;
  const node: NewNode = {
    name,
    attributes: type === S_IFDIR
      ? FileAttribute.DIRECTORY
      : sparse
      ? FileAttribute.SPARSE_FILE
      : FileAttribute.NORMAL,
    creationTime: stat.writeTime,
    lastAccessTime: stat.accessTime,
    lastWriteTime: stat.writeTime,
  };
  if (options.unixData) {
    node.unix = { uid: stat.uid, gid: stat.gid, mode: stat.mode, rdev: stat.rdev };
  }
  return node;
}

function skip(
  tally: WarningTally,
  options: ScanOptions,
  code: WarningCode,
  path: string,
  error?: unknown,
): void {
  if (options.strict) {
    const what = code === "special-file"
      ? "is a special file"
      : `cannot be read (${reason(error)})`;
    throw new WimkitError(
      `Cannot capture "${path}": it ${what}`,
      code === "special-file" ? "usage" : "io",
      {
        path,
        ...(error === undefined ? {} : { cause: error }),
      },
    );
  }
  tally.add(code, path);
}

function isReadable(path: string): boolean {
  try {
    closeSync(openSync(path, "r"));
    return true;
  } catch {
    return false;
  }
}

async function isDirectoryTarget(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Encodes a POSIX symlink as wimlib does, fixed to the capture root it points into. */
async function symlinkReparse(path: string, roots: string[], rpfix: boolean) {
  const target = await Deno.readLink(path);
  const root = rpfix
    ? roots.find((root) => target === root || target.startsWith(root + "/"))
    : undefined;
  return encodePosixSymlink(target, root);
}

/**
 * Read buffers of finished reads, for the next ones: a capture reads thousands of files, and a new
 * 1 MiB buffer per file left that much garbage for the collector (tens of MiB of peak memory).
 */
const freeReadBuffers: Uint8Array[] = [];

/** A host file as a content source, read in 1 MiB pieces (each valid until the next). */
export function fileSource(path: string, size: number): ContentSource {
  return {
    size,
    label: path,
    async *read() {
      const fd = openSync(path, "r");
      const whole = freeReadBuffers.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
      try {
        const buffer = whole.subarray(0, Math.min(READ_BUFFER_BYTES, size));
        let done = 0;
        while (done < size) {
          const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), done);
          if (n === 0) {
            throw new WimkitError(
              `Cannot capture "${path}": the file shrank while it was being read`,
              "io",
              {
                file: path,
              },
            );
          }
          done += n;
          yield buffer.subarray(0, n);
        }
      } finally {
        closeSync(fd);
        if (freeReadBuffers.length < 4) freeReadBuffers.push(whole);
      }
    },
  };
}

function absolute(path: string): string {
  const full = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return full.replace(/\/+$/, "") || "/";
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

function reasonCode(error: unknown): "not-found" | "io" {
  return error instanceof Deno.errors.NotFound ? "not-found" : "io";
}
