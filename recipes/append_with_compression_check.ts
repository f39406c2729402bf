/**
 * append-with-compression-check: append a capture to an existing WIM only when the requested
 * compression is the file's (ImageX's rule: one compression type per file). Otherwise refuse,
 * naming both types, or with `convert`, export the existing images into a new WIM of the
 * requested compression and append there, leaving the original untouched.
 */

import { CompressionMismatchError } from "../lib/errors.ts";
import type { ProgressEvent } from "../lib/progress.ts";
import type { ChunkPool } from "../lib/codecs/chunk_pool.ts";
import type { CompressionType } from "../lib/codecs/codec.ts";
import { scanTree } from "../lib/fs/scan.ts";
import { exportImages } from "../lib/wim/manage.ts";
import { appendToWim } from "../lib/wim/writer.ts";
import { Wim } from "../lib/wim/wim.ts";

/** Options for {@linkcode appendWithCompressionCheck}. */
export interface AppendWithCompressionCheckOptions {
  /** The directory to capture. */
  source: string;
  /** The existing WIM. */
  wim: string;
  /** The compression the new image must have. */
  compression: CompressionType;
  /** Image name (default: the source's name). */
  name?: string;
  /** Image description. */
  description?: string;
  /** On a mismatch, convert into this new WIM (true: "<wim>-<compression>.wim") and append there. */
  convert?: boolean | string;
  /** Where chunks are compressed. */
  pool?: ChunkPool;
  /** Progress events. */
  onProgress?: (event: ProgressEvent) => void;
}

/** The report of {@linkcode appendWithCompressionCheck}. */
export interface AppendWithCompressionCheckReport {
  /** The WIM that received the image. */
  readonly wim: string;
  /** True when a converted copy was made (the original is untouched). */
  readonly converted: boolean;
  /** The original WIM's compression. */
  readonly originalCompression: CompressionType;
  /** The compression of the WIM written. */
  readonly compression: CompressionType;
  /** 1-based index of the new image. */
  readonly image: number;
  /** Images in the WIM written. */
  readonly imageCount: number;
}

/**
 * Appends `source` to `wim` if the compressions agree, or converts first with `convert`.
 *
 * @throws {CompressionMismatchError} When they differ and `convert` is not set; nothing is written.
 *
 * @example
 * ```ts ignore
 * const report = await appendWithCompressionCheck({ source: "C:/golden", wim: "install.wim", compression: "lzx" });
 * ```
 */
export async function appendWithCompressionCheck(
  options: AppendWithCompressionCheckOptions,
): Promise<AppendWithCompressionCheckReport> {
  let originalCompression: CompressionType;
  {
    await using wim = await Wim.open(options.wim);
    originalCompression = wim.compression;
  }
  const common = {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  let destination = options.wim;
  let converted = false;
  if (originalCompression !== options.compression) {
    if (!options.convert) {
      throw new CompressionMismatchError(
        `Cannot append to "${options.wim}": it is ${originalCompression.toUpperCase()}-compressed and the new image would be ${options.compression.toUpperCase()}; one WIM holds one compression type (append with --compress=${originalCompression}, or use --convert to make a ${options.compression.toUpperCase()} copy)`,
        { file: options.wim },
      );
    }
    destination = typeof options.convert === "string"
      ? options.convert
      : options.wim.replace(/(\.[^./]*)?$/, `-${options.compression}$1`);
    await using wim = await Wim.open(options.wim);
    await exportImages(wim, wim.images().map((i) => i.index), destination, {
      ...common,
      compression: options.compression,
    });
    converted = true;
  }
  const scan = await scanTree(
    options.source,
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
  const report = await appendToWim(destination, [{
    root: scan.root,
    name: options.name ?? (options.source.replace(/\/+$/, "").split("/").pop() || "image"),
    ...(options.description ? { description: options.description } : {}),
  }], { ...common, compression: options.compression });
  return {
    wim: destination,
    converted,
    originalCompression,
    compression: options.compression,
    image: report.addedImages[0]!,
    imageCount: report.imageCount,
  };
}
