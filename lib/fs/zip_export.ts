/**
 * One image of a WIM written as a .zip: directories and regular files with UTF-8 names and their
 * times, each file streamed from its blob through zip.js (npm:@zip.js/zip.js) with nothing
 * extracted to disk (the other half of the zip bridge is lib/fs/zip_scan.ts).
 *
 * Settings that matter (stack.md §9): web workers are off per call (our callers run their own
 * pools); `level` is passed only for store (0) or an explicit level, so the default stays on the
 * native `CompressionStream`; zip.js switches an entry to Zip64 by itself when its size (always
 * passed) or offset needs it. Each entry gets an NTFS extra field with its three FILETIMEs
 * (lib/fs/zip_times.ts).
 */

import { createHash } from "node:crypto";
import { ZipWriter } from "@zip.js/zip.js";
import { WimIntegrityError, WimkitError } from "../errors.ts";
import { FileAttribute } from "../format/constants.ts";
import { toHex } from "../format/bytes.ts";
import { type DentryNode, dentryStreams, isDirectory, walkTree } from "../format/metadata.ts";
import type { OperationOptions, WarningCode } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { Wim } from "../wim/wim.ts";
import { wrapError, zipWarnings } from "./zip_errors.ts";
import { filetimeToDate, ntfsExtraField } from "./zip_times.ts";

/** Options for {@linkcode exportImageToZip}. */
export interface ExportZipOptions extends OperationOptions {
  /** Deflate level 1-9, or 0 to store; unset uses the native deflate at its default level. */
  level?: number;
}

/** What {@linkcode exportImageToZip} wrote. */
export interface ExportZipReport {
  /** Regular files written (each hard link as its own copy). */
  readonly files: number;
  /** Directories written (the root is not an entry). */
  readonly directories: number;
  /** Bytes of file content written, before compression. */
  readonly bytes: number;
  /** Links, other reparse points, encrypted files and unsafe names left out. */
  readonly skipped: number;
}

/**
 * Writes one image of a WIM as a .zip: directories and regular files with UTF-8 names and their
 * times, each file streamed from its blob (SHA-1 checked) into the zip. The zip is written under
 * a temporary name beside `zipPath` and renamed into place when complete.
 *
 * @param index 1-based image index.
 * @throws {RangeError} If `level` is not an integer from 0 to 9.
 * @throws {WimkitError} If the image cannot be read or the zip cannot be written.
 * @throws {WimIntegrityError} If a blob does not match its SHA-1.
 *
 * @example Export the first image
 * ```ts
 * import { exportImageToZip, Wim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const zip = await Deno.makeTempFile({ suffix: ".zip" });
 * const report = await exportImageToZip(wim, 1, zip, { level: 0 });
 * assert.ok(report.files > 0);
 * await Deno.remove(zip);
 * ```
 */
export async function exportImageToZip(
  wim: Wim,
  index: number,
  zipPath: string,
  options: ExportZipOptions = {},
): Promise<ExportZipReport> {
  const level = options.level;
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 9)) {
    throw new RangeError(`Cannot export to zip: level is ${level}, expected an integer 0-9`);
  }
  const image = await wim.readImage(index);
  const plan = planExport(image.metadata.root, (hash) => wim.blob(hash)?.size ?? 0);
  const context = { file: wim.path, image: index };
  const temp = `${zipPath}.wimkit-${crypto.randomUUID().slice(0, 8)}.tmp`;
  let file: Deno.FsFile | undefined;
  let renamed = false;
  try {
    file = await Deno.open(temp, { write: true, createNew: true });
    const out = file;
    const sink = new WritableStream<Uint8Array>({
      async write(chunk) {
        let done = 0;
        while (done < chunk.length) done += await out.write(chunk.subarray(done));
      },
    });
    const writer = new ZipWriter(sink, {
      useWebWorkers: false,
      bufferedWrite: false,
      keepOrder: true,
      extendedTimestamp: true,
      ntfsTimestamp: false,
      ...(level === undefined ? {} : { level }),
    });
    const progress = { doneBytes: 0, doneFiles: 0 };
    for (const item of plan.items) {
      options.signal?.throwIfAborted();
      const entryOptions = {
        lastModDate: filetimeToDate(item.node.lastWriteTime),
        extraField: ntfsExtraField(item.node),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      if (item.directory) {
        await writer.add(`${item.path}/`, null, { ...entryOptions, directory: true });
        continue;
      }
      const blob = item.hash ? wim.blob(item.hash) : undefined;
      if (item.hash && !blob) {
        throw new WimkitError(
          `Cannot export "/${item.path}": its data (blob ${toHex(item.hash)}) is not in the WIM`,
          "format",
          { ...context, path: `/${item.path}` },
        );
      }
      const size = blob?.size ?? 0;
      const stream = blob
        ? wim.openBlob(blob).pipeThrough(hashCheck(blob.hashHex, size, `/${item.path}`, wim.path))
        : null;
      await writer.add(item.path, stream, { ...entryOptions, uncompressedSize: size });
      progress.doneBytes += size;
      progress.doneFiles++;
      options.onProgress?.({
        type: "apply-blobs",
        ...progress,
        totalBytes: plan.bytes,
        totalFiles: plan.files,
      });
    }
    await writer.close();
    await out.syncData();
    out.close();
    file = undefined;
    await Deno.rename(temp, zipPath);
    renamed = true;
  } catch (error) {
    throw wrapError(
      error,
      `Cannot export image ${index} of "${wim.path}" to "${zipPath}"`,
      zipPath,
    );
  } finally {
    file?.close();
    if (!renamed) await Deno.remove(temp).catch(() => {});
  }
  const warnings = zipWarnings(plan.tally);
  for (const warning of warnings) options.onProgress?.({ type: "warning", ...warning });
  return {
    files: plan.files,
    directories: plan.directories,
    bytes: plan.bytes,
    skipped: plan.skipped,
  };
}

interface ExportItem {
  readonly path: string;
  readonly node: DentryNode;
  readonly directory: boolean;
  readonly hash: Uint8Array | null;
}

/** What the export will write, in pre-order (parents before children), and what it leaves out. */
function planExport(root: DentryNode, sizeOf: (hash: Uint8Array) => number) {
  const items: ExportItem[] = [];
  const tally = new WarningTally();
  let files = 0, directories = 0, bytes = 0, skipped = 0;
  const skip = (code: WarningCode, path: string) => {
    tally.add(code, `/${path}`);
    skipped++;
  };
  const accept = (child: DentryNode, parentPath: string) => {
    if (!child.name.includes("\\")) return true;
    skip("unsafe-name", parentPath ? `${parentPath}/${child.name}` : child.name);
    return false;
  };
  for (const { node, path } of walkTree(root, accept)) {
    if (path === "") continue;
    if (isDirectory(node)) {
      items.push({ path, node, directory: true, hash: null });
      directories++;
    } else if ((node.attributes & FileAttribute.REPARSE_POINT) !== 0) {
      skip("unsupported-reparse", path);
    } else if ((node.attributes & FileAttribute.ENCRYPTED) !== 0) {
      skip("encrypted-file", path);
    } else {
      const streams = dentryStreams(node);
      if (streams.named.length > 0) tally.add("named-streams", `/${path}`);
      items.push({ path, node, directory: false, hash: streams.data });
      files++;
      if (streams.data) bytes += sizeOf(streams.data);
    }
  }
  return { items, tally, files, directories, bytes, skipped };
}

/** Passes a blob's bytes through, failing at the end unless size and SHA-1 match. */
function hashCheck(
  hashHex: string,
  size: number,
  path: string,
  wimPath: string,
): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash("sha1");
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      total += chunk.length;
      controller.enqueue(chunk);
    },
    flush() {
      const digest = hash.digest("hex");
      if (total !== size || digest !== hashHex) {
        throw new WimIntegrityError(
          `Cannot export "${path}": its data (${total} bytes, SHA-1 ${digest}) does not match ` +
            `blob ${hashHex} (${size} bytes)`,
          { file: wimPath, path },
        );
      }
    },
  });
}
