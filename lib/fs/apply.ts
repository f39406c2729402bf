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

import { createHash } from "node:crypto";
import { UnsafePathError, WimIntegrityError, WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { toHex } from "../format/bytes.ts";
import { parseLinkReparseData } from "../format/reparse.ts";
import type { OperationOptions, Warning, WarningCode } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { Wim } from "../wim/wim.ts";
import type { ImageMetadata } from "../format/metadata.ts";
import { type ApplyDataSource, wimDataSource } from "./apply_source.ts";
import { applyFileData } from "./apply_data.ts";
import { selectPaths } from "./extract_paths.ts";
import { flattenImage, type ImageEntry } from "./image_tree.ts";
import { linkTargetForHost } from "./safe_path.ts";
import { preciseTimes, setFileTimes } from "./timestamps.ts";
import { osError } from "../io/file_source.ts";
import {
  applyUnixData,
  createHardLink,
  createSymlink,
  ensureDirectory,
  prepareTarget,
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
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/xpress.wim");
 * const target = await Deno.makeTempDir();
 * const report = await applyImage(wim, 1, target);
 * assert.ok(report.files > 0);
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

  const { hardLinks, linkData, bytes, reportDone } = await applyFileData(source, files, links, {
    index,
    context,
    hostPath,
    fail,
  }, options);

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
  reportDone();
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
    bytes,
    warnings,
  };
}
