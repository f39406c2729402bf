/**
 * The file data of an apply: groups the files by blob (the first name of each inode gets the
 * data, the others become hard links), reads every blob once in the source's order, writes it to
 * each file that uses it while checking its SHA-1, and keeps links' reparse data for later. When
 * the writing stops, partly written files are removed and the error says what is missing.
 */

import { createHash, type Hash } from "node:crypto";
import { WimIntegrityError, WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { toHex } from "../format/bytes.ts";
import type { OperationOptions } from "../progress.ts";
import type { ApplyBlob, ApplyDataSource, ApplyPiece } from "./apply_source.ts";
import type { ImageEntry } from "./image_tree.ts";
import { closeFile, copyFile, createFile, writeAll } from "./posix_target.ts";

/** Bytes between progress events. */
const PROGRESS_STEP_BYTES = 4 << 20;
/** Largest reparse data kept for a link (the NTFS limit is 16 KiB). */
const MAX_LINK_DATA_BYTES = 64 << 10;
/** Files one blob is written to at once; the rest are copied from the first. */
const MAX_OPEN_PER_BLOB = 64;

/** Where the entries of an apply go on the host, and how a failed host call is reported. */
export interface ApplyPlace {
  /** 1-based image index. */
  readonly index: number;
  /** Names the source and the image in errors. */
  readonly context: { readonly file: string; readonly image: number };
  /** The host path of an entry. */
  hostPath(entry: ImageEntry): string;
  /** Throws the error of a failed host call on `entry`. */
  fail(entry: ImageEntry, action: string, error: unknown): never;
}

/** What the data pass did. */
export interface AppliedData {
  /** Names of hard-linked files still to link to the name that got the data. */
  readonly hardLinks: { entry: ImageEntry; primary: ImageEntry }[];
  /** Reparse data of links by blob hash (null when too large to keep). */
  readonly linkData: Map<string, Uint8Array | null>;
  /** Bytes of file data written. */
  readonly bytes: number;
  /** Emits the final `apply-blobs` progress event (every file done). */
  reportDone(): void;
}

/**
 * Writes the data of `files` and reads the reparse data of `links` from `source`, in one pass.
 *
 * @throws {WimIntegrityError} If file data does not match its SHA-1 (names the file).
 * @throws {WimkitError} If a blob is missing or a file cannot be written (names the path).
 *
 * @example
 * ```ts ignore
 * const data = await applyFileData(wimDataSource(wim), files, links, place, {});
 * ```
 */
export async function applyFileData(
  source: ApplyDataSource,
  files: readonly ImageEntry[],
  links: readonly ImageEntry[],
  place: ApplyPlace,
  options: OperationOptions & { pool?: ChunkPool },
): Promise<AppliedData> {
  const { index, context, hostPath, fail } = place;
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
  return {
    hardLinks,
    linkData,
    bytes: doneBytes,
    reportDone: () => {
      doneFiles = files.length - hardLinks.length;
      report();
    },
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
