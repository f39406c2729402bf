/**
 * Applies an image to a directory on a POSIX host (wimlib's "extract" on Linux).
 *
 * Order: directories (pre-order), file data blob by blob in on-disk order (each blob written to
 * every file that uses it, its SHA-1 checked as it is written), hard links, symlinks last (so no
 * later write can pass through a link the image made), then UNIX modes/owners and times, with
 * directories' times set deepest first. Existing entries at the image's paths are removed and
 * recreated, never written through, so a symlink or hard link already in the target cannot
 * redirect a write; anything else in the target is left alone.
 */

import { createHash, type Hash } from "node:crypto";
import { UnsafePathError, WimIntegrityError, WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { toHex } from "../format/bytes.ts";
import { parseLinkReparseData } from "../format/reparse.ts";
import type { OperationOptions, Warning, WarningCode } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { Wim } from "../wim/wim.ts";
import type { ImageMetadata } from "../format/metadata.ts";
import {
  type ApplyBlob,
  type ApplyDataSource,
  type ApplyPiece,
  wimDataSource,
} from "./apply_source.ts";
import { flattenImage, type ImageEntry } from "./image_tree.ts";
import { type DentryNode, findDentry } from "../format/metadata.ts";
import { linkTargetForHost } from "./safe_path.ts";
import { preciseTimes, setFileTimes } from "./timestamps.ts";
import { osError } from "../io/file_source.ts";
import {
  applyUnixData,
  closeFile,
  copyFile,
  createFile,
  createHardLink,
  createSymlink,
  ensureDirectory,
  prepareTarget,
  writeAll,
} from "./posix_target.ts";

/** Options for {@linkcode applyImage}. */
export interface ApplyOptions extends OperationOptions {
  /** Pool for file data (default: the WIM's). */
  pool?: ChunkPool;
  /** Rebase absolute links into the target (default: the WIM's RP_FIX flag). */
  rpfix?: boolean;
  /**
   * Extract only these paths of the image ("/"-separated); each lands in the target under its
   * own name, and the target's own times are left alone.
   */
  paths?: readonly string[];
}

/** What an apply did. */
export interface ApplyReport {
  /** 1-based image index. */
  readonly image: number;
  /** The target directory. */
  readonly target: string;
  /** Directories created or kept (the root included). */
  readonly directories: number;
  /** Regular files written (each hard-link name counted). */
  readonly files: number;
  /** Symbolic links created. */
  readonly symlinks: number;
  /** Bytes of file data written (each blob counted once per file using it). */
  readonly bytes: number;
  /** One warning per kind of thing that could not be applied. */
  readonly warnings: Warning[];
}

/** Bytes between progress events. */
const PROGRESS_STEP_BYTES = 4 << 20;
/** Largest reparse data kept for a link (the NTFS limit is 16 KiB). */
const MAX_LINK_DATA_BYTES = 64 << 10;
/** Files one blob is written to at once; the rest are copied from the first. */
const MAX_OPEN_PER_BLOB = 64;

const WARNING_TEXT: Record<WarningCode, string> = {
  "unsafe-name": "Skipped {n} entries whose names are unsafe on this system (first: {e})",
  "dropped-name": 'Ignored {n} entries with empty, ".", ".." or duplicate names',
  "named-streams": "Ignored named data streams of {n} files (first: {e})",
  "security-descriptors": "Ignored security descriptors of {n} files",
  "special-file": "Skipped {n} special files (FIFOs, devices, sockets; first: {e})",
  "unsupported-reparse": "Skipped {n} reparse points that are not links (first: {e})",
  "encrypted-file": "Skipped {n} encrypted files (first: {e})",
  "ownership": "Could not set the owner of {n} files (first: {e})",
  "low-precision-times":
    "Set times of {n} entries to the millisecond only (run with --allow-ffi for 100 ns)",
  "write-in-progress": "{e}",
  "unreadable": "Skipped {n} unreadable entries (first: {e})",
};

/**
 * Applies image `index` of `wim` to the directory `target` (created if missing).
 *
 * @throws {WimIntegrityError} If file data does not match its SHA-1 (names the file).
 * @throws {WimkitError} If a blob is missing or the target cannot be written (names the path).
 *
 * @example
 * ```ts
 * import { applyImage, Wim } from "@wimkit/wimkit";
 * await using wim = await Wim.open("tests/fixtures/xpress.wim");
 * const target = await Deno.makeTempDir();
 * const report = await applyImage(wim, 1, target);
 * console.assert(report.files > 0);
 * await Deno.remove(target, { recursive: true });
 * ```
 */
export async function applyImage(
  wim: Wim,
  index: number,
  target: string,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const image = await wim.readImage(index);
  return await applyImageData(wimDataSource(wim), index, image.metadata, target, options);
}

/**
 * Applies an image, given its metadata, with file data from `source` (a WIM, or a pipable WIM
 * read from a pipe); the work of {@linkcode applyImage}.
 *
 * @throws {WimIntegrityError} If file data does not match its SHA-1 (names the file).
 * @throws {WimkitError} If a blob is missing or the target cannot be written (names the path).
 *
 * @example
 * ```ts ignore
 * await applyImageData(wimDataSource(wim), 1, (await wim.readImage(1)).metadata, "/mnt/target");
 * ```
 */
export async function applyImageData(
  source: ApplyDataSource,
  index: number,
  metadata: ImageMetadata,
  target: string,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const context = { file: source.name, image: index };
  const tally = new WarningTally();
  if (metadata.droppedNames > 0) {
    for (let i = 0; i < metadata.droppedNames; i++) tally.add("dropped-name", "");
  }
  const root = options.paths
    ? selectPaths(metadata.root, options.paths, source.name, index)
    : metadata.root;
  const { entries, unsafe } = flattenImage(root);
  for (const item of unsafe) tally.add("unsafe-name", `${item.path} (${item.reason})`);
  const hostPath = (entry: ImageEntry) => (entry.path === "" ? target : `${target}/${entry.path}`);
  const fail = (entry: ImageEntry, action: string, error: unknown): never => {
    const os = osError(action, hostPath(entry), error);
    throw new WimkitError(
      `Cannot apply image ${index} of "${source.name}": ${action} "/${entry.path}": ${
        os.message.split(": ").pop()
      }`,
      os.code,
      { ...context, path: `/${entry.path}`, cause: error },
    );
  };

  prepareTarget(target);
  const directories: ImageEntry[] = [];
  const files: ImageEntry[] = [];
  const links: ImageEntry[] = [];
  for (const entry of entries) {
    if (entry.streams.named.length > 0) tally.add("named-streams", `/${entry.path}`);
    if (entry.node.securityId >= 0) tally.add("security-descriptors", `/${entry.path}`);
    switch (entry.kind) {
      case "directory":
        directories.push(entry);
        break;
      case "file":
        files.push(entry);
        break;
      case "link":
        links.push(entry);
        break;
      case "other-reparse":
        tally.add("unsupported-reparse", `/${entry.path}`);
        break;
      case "encrypted":
        tally.add("encrypted-file", `/${entry.path}`);
        break;
      case "special":
        tally.add("special-file", `/${entry.path}`);
        break;
    }
  }

  for (const entry of directories) {
    if (entry.path === "") continue;
    try {
      ensureDirectory(hostPath(entry));
    } catch (error) {
      fail(entry, "create directory", error);
    }
  }

  // Files: the first name of each inode gets the data; other names become hard links to it.
  const primaries = new Map<string, ImageEntry>();
  const hardLinks: { entry: ImageEntry; primary: ImageEntry }[] = [];
  const byBlob = new Map<string, ImageEntry[]>();
  let totalBytes = 0;
  for (const entry of files) {
    if (entry.inodeKey !== null) {
      const primary = primaries.get(entry.inodeKey);
      if (primary) {
        hardLinks.push({ entry, primary });
        continue;
      }
      primaries.set(entry.inodeKey, entry);
    }
    const hash = entry.streams.data;
    if (!hash) {
      try {
        closeFile(createFile(hostPath(entry)));
      } catch (error) {
        fail(entry, "create file", error);
      }
      continue;
    }
    const key = toHex(hash);
    const list = byBlob.get(key);
    if (list) list.push(entry);
    else byBlob.set(key, [entry]);
  }
  const blobs: ApplyBlob[] = [];
  for (const [key, users] of byBlob) {
    const blob = source.blob(key);
    if (!blob) {
      throw new WimkitError(
        `Cannot apply image ${index} of "${source.name}": the data of "/${
          users[0]!.path
        }" (blob ${key}) is missing from the WIM${source.missingHint}`,
        "format",
        { ...context, path: `/${users[0]!.path}` },
      );
    }
    blobs.push(blob);
    totalBytes += blob.size * users.length;
  }
  // Links' reparse data is read in the same pass (a pipe passes only once) and kept in memory.
  const linkData = new Map<string, Uint8Array | null>();
  for (const entry of links) {
    const hash = entry.streams.reparse;
    const key = hash ? toHex(hash) : "";
    const blob = hash && !linkData.has(key) ? source.blob(key) : undefined;
    if (!blob) continue;
    linkData.set(key, null);
    if (!byBlob.has(key)) blobs.push(blob);
  }

  let doneBytes = 0;
  let doneFiles = 0;
  let nextProgress = 0;
  const report = () => {
    options.onProgress?.({
      type: "apply-blobs",
      doneBytes,
      totalBytes,
      doneFiles,
      totalFiles: files.length,
    });
  };
  report();
  let current: { blob: ApplyBlob; fds: number[]; users: ImageEntry[]; hash: Hash } | null = null;
  const readOptions = {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let writtenFiles = 0;
  try {
    for await (const piece of source.readBlobs(blobs, readOptions)) {
      if (linkData.has(piece.blob.hashHex)) keepLinkData(linkData, piece);
      if (!byBlob.has(piece.blob.hashHex)) continue;
      if (!current || current.blob !== piece.blob) {
        const users = byBlob.get(piece.blob.hashHex)!;
        const fds = users.slice(0, MAX_OPEN_PER_BLOB).map((entry) => {
          try {
            return createFile(hostPath(entry));
          } catch (error) {
            return fail(entry, "create file", error);
          }
        });
        current = { blob: piece.blob, fds, users, hash: createHash("sha1") };
      }
      current.hash.update(piece.data);
      for (let i = 0; i < current.fds.length; i++) {
        try {
          writeAll(current.fds[i]!, piece.data);
        } catch (error) {
          fail(current.users[i]!, "write", error);
        }
      }
      doneBytes += piece.data.length * current.fds.length;
      if (piece.offset + piece.data.length === piece.blob.size) {
        for (const fd of current.fds.splice(0)) closeFile(fd);
        const digest = current.hash.digest("hex");
        if (digest !== piece.blob.hashHex) {
          throw new WimIntegrityError(
            `Cannot apply image ${index} of "${source.name}": data of "/${
              current.users[0]!.path
            }" has SHA-1 ${digest}, expected ${piece.blob.hashHex}`,
            { ...context, path: `/${current.users[0]!.path}` },
          );
        }
        for (const entry of current.users.slice(MAX_OPEN_PER_BLOB)) {
          try {
            copyFile(hostPath(current.users[0]!), hostPath(entry));
          } catch (error) {
            fail(entry, "create file", error);
          }
          doneBytes += piece.blob.size;
        }
        doneFiles += current.users.length;
        writtenFiles += current.users.length;
        current = null;
        if (doneBytes >= nextProgress) {
          report();
          nextProgress = doneBytes + PROGRESS_STEP_BYTES;
        }
      }
    }
  } catch (error) {
    // Never leave a half-written file unreported: remove them and say what is missing.
    const partial = current ? current.users.slice(0, MAX_OPEN_PER_BLOB) : [];
    for (const fd of current?.fds ?? []) closeFile(fd);
    for (const entry of partial) await Deno.remove(hostPath(entry)).catch(() => {});
    let withData = 0;
    for (const users of byBlob.values()) withData += users.length;
    throw stoppedApply(error, partial.map((e) => `/${e.path}`), withData - writtenFiles, context);
  }
  doneFiles = files.length - hardLinks.length;

  for (const { entry, primary } of hardLinks) {
    try {
      createHardLink(hostPath(primary), hostPath(entry));
    } catch (error) {
      fail(entry, "create hard link", error);
    }
  }

  const fixup = options.rpfix ?? source.rpfix;
  let symlinks = 0;
  for (const entry of links) {
    const hash = entry.streams.reparse;
    const data = hash ? linkData.get(toHex(hash)) : undefined;
    if (!data) {
      tally.add("unsupported-reparse", `/${entry.path}`);
      continue;
    }
    const digest = createHash("sha1").update(data).digest("hex");
    if (digest !== toHex(hash!)) {
      throw new WimIntegrityError(
        `Cannot apply image ${index} of "${source.name}": reparse data of "/${entry.path}" has SHA-1 ${digest}, expected ${
          toHex(hash!)
        }`,
        { ...context, path: `/${entry.path}` },
      );
    }
    const link = parseLinkReparseData(entry.node.reparseTag, data);
    if (!link) {
      tally.add("unsupported-reparse", `/${entry.path}`);
      continue;
    }
    const notFixed = (entry.node.reparseFlags & 1) !== 0;
    const linkTarget = linkTargetForHost(
      link.substituteName,
      link.relative,
      fixup && !notFixed,
      target,
    );
    if (linkTarget.includes("\0")) {
      throw new UnsafePathError(
        `Cannot apply image ${index} of "${source.name}": link "/${entry.path}" has a NUL in its target`,
        {
          ...context,
          path: `/${entry.path}`,
        },
      );
    }
    try {
      createSymlink(linkTarget, hostPath(entry));
    } catch (error) {
      fail(entry, "create symbolic link", error);
    }
    symlinks++;
  }

  applyUnixData([...directories, ...files], hostPath, tally);

  const timed = [...files, ...links.filter((l) => l.streams.reparse)];
  const precise = preciseTimes();
  for (const entry of timed) {
    try {
      setFileTimes(hostPath(entry), entry.node.lastAccessTime, entry.node.lastWriteTime);
    } catch (error) {
      fail(entry, "set times of", error);
    }
  }
  const deepestFirst = directories.filter((d) => !options.paths || d.path !== "")
    .sort((a, b) => b.depth - a.depth);
  for (const entry of deepestFirst) {
    try {
      setFileTimes(hostPath(entry), entry.node.lastAccessTime, entry.node.lastWriteTime);
    } catch (error) {
      fail(entry, "set times of", error);
    }
  }
  if (!precise) {
    for (let i = 0; i < timed.length + directories.length; i++) {
      tally.add("low-precision-times", "");
    }
  }
  report();
  const warnings = tally.warnings((n, code, example) =>
    WARNING_TEXT[code].replace("{n}", String(n)).replace("{e}", example)
  );
  for (const warning of warnings) options.onProgress?.({ type: "warning", ...warning });
  return {
    image: index,
    target,
    directories: directories.length,
    files: files.length,
    symlinks,
    bytes: doneBytes,
    warnings,
  };
}

/** Collects a piece of a link's reparse data (data over the size limit is not kept). */
function keepLinkData(linkData: Map<string, Uint8Array | null>, piece: ApplyPiece): void {
  if (piece.blob.size > MAX_LINK_DATA_BYTES) return;
  let buffer = linkData.get(piece.blob.hashHex);
  if (!buffer) {
    buffer = new Uint8Array(piece.blob.size);
    linkData.set(piece.blob.hashHex, buffer);
  }
  buffer.set(piece.data, piece.offset);
}

/** A stand-in root whose children are the dentries at `paths`. */
function selectPaths(
  root: DentryNode,
  paths: readonly string[],
  file: string,
  image: number,
): DentryNode {
  const children: DentryNode[] = [];
  for (const path of paths) {
    const node = findDentry(root, path);
    if (!node) {
      throw new WimkitError(
        `Cannot extract from image ${image} of "${file}": no "${path}" in the image`,
        "not-found",
        {
          file,
          image,
          path,
        },
      );
    }
    if (node === root) return root;
    if (children.some((c) => c.name === node.name)) {
      throw new WimkitError(
        `Cannot extract "${path}": another extracted path is also named "${node.name}"`,
        "usage",
        {
          file,
          image,
          path,
        },
      );
    }
    children.push(node);
  }
  return { ...root, children };
}

/** An error that stopped the writing of file data, with what the target is left without. */
function stoppedApply(
  error: unknown,
  removed: string[],
  notWritten: number,
  context: { file: string; image: number },
): unknown {
  if (notWritten === 0 && removed.length === 0) return error;
  const what = removed.length > 0
    ? `removed ${removed.length} partly written file${removed.length === 1 ? "" : "s"} (first: "${
      removed[0]
    }"); `
    : "";
  const reason = error instanceof Error ? error.message : String(error);
  const message = `${reason}; the apply stopped: ${what}${notWritten} file${
    notWritten === 1 ? "" : "s"
  } of the image were not written`;
  return error instanceof WimkitError
    ? error.rephrase(message, context)
    : new WimkitError(message, "io", { ...context, cause: error });
}
