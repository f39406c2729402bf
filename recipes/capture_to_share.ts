/**
 * The capture-to-share recipe: capture a tree and publish the WIM to a deployment share, a local
 * or mounted path or a WebDAV URL, so that the final name only ever holds a complete WIM.
 *
 * Path: the WIM is written beside its final name and renamed (`createWim` does this; with
 * `check` it is verified before the rename); `append` changes the file in place, which is
 * crash-safe (the header is written last). WebDAV: the WIM is built in a local temporary folder,
 * uploaded to `<final>.wimkit-upload-<random>` with retries, checked, and renamed with MOVE
 * (Overwrite: T); the upload is deleted from the share when anything fails. `append` over WebDAV
 * downloads the WIM, appends locally and publishes the result the same way; before the MOVE it
 * checks that the WIM's entity tag has not changed on the share meanwhile.
 */

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import type { ChunkPool } from "../lib/codecs/chunk_pool.ts";
import type { CompressionType } from "../lib/codecs/codec.ts";
import { CompressionMismatchError, WimIntegrityError, WimkitError } from "../lib/errors.ts";
import { scanTree } from "../lib/fs/scan.ts";
import type { ProgressEvent } from "../lib/progress.ts";
import { verifyWim } from "../lib/wim/verify.ts";
import { Wim } from "../lib/wim/wim.ts";
import {
  appendToWim,
  createWim,
  type ImageToWrite,
  type WriteOptions,
  type WriteReport,
} from "../lib/wim/writer.ts";
import {
  download,
  head,
  isWebDavUrl,
  makeParents,
  move,
  putFile,
  redactUrl,
  remove,
  type TransferProgress,
} from "../lib/io/webdav.ts";
import { WebDavError, type WebDavOptions } from "../lib/io/webdav_request.ts";

/** A progress event of {@linkcode captureToShare}: capture events, then transfers. */
export type CaptureToShareEvent = ProgressEvent | TransferProgress;

/** What to capture and where to publish it. */
export interface CaptureToShareOptions {
  /** The directory to capture. */
  source: string;
  /** The final WIM: a path (local or a mounted SMB/NFS share) or an http(s) WebDAV URL. */
  destination: string;
  /** Image name (default: the source directory's name). */
  name?: string;
  /** Image description. */
  description?: string;
  /** Compression of a new WIM (default lzx); with `append`, must equal the WIM's. */
  compression?: CompressionType;
  /** One solid LZMS resource (the .esd layout). */
  solid?: boolean;
  /** Write an integrity table and verify the WIM under its temporary name before publishing. */
  check?: boolean;
  /** Add the image to the existing WIM at `destination` instead of replacing it. */
  append?: boolean;
  /** Retries of each WebDAV request after a transient failure (default 3). */
  retries?: number;
  /** First backoff delay between WebDAV retries in ms, doubled each time (default 500). */
  retryDelayMs?: number;
  /** Where chunks are compressed (default: inline). */
  pool?: ChunkPool;
  /** Called synchronously with capture and transfer progress. */
  onProgress?: (event: CaptureToShareEvent) => void;
  /** Cancels the job; nothing is left under the final name. */
  signal?: AbortSignal;
}

/** What {@linkcode captureToShare} published. */
export interface CaptureToShareReport {
  /** The final WIM (a URL without its credentials). */
  readonly destination: string;
  /** Whether the WIM is now under its final name (always true when the call returns). */
  readonly published: boolean;
  /** Whether the image was appended to an existing WIM. */
  readonly appended: boolean;
  /** Size of the published WIM in bytes. */
  readonly bytes: number;
  /** Images in the published WIM. */
  readonly images: number;
  /** 1-based indexes of the images this run added. */
  readonly addedImages: number[];
  /** Compression type of the WIM. */
  readonly compression: CompressionType;
  /** Upload attempts (0 for a path destination). */
  readonly uploadAttempts: number;
  /** Whether the published bytes were read back and verified (`check`). */
  readonly verified: boolean;
  /** Wall time of the whole job. */
  readonly durationMs: number;
}

const CLEANUP_TIMEOUT_MS = 30_000;
/** When to delete abandoned uploads again (ms after the previous round). */
const CLEANUP_RECHECK_MS = [300, 1000];

/** Suffix of the temporary name a WIM is written under before it is published. */
export const UPLOAD_SUFFIX = ".wimkit-upload-";

/**
 * Captures `source` and publishes the WIM at `destination` (a path or a WebDAV URL); the final
 * name never holds an incomplete or unverified file.
 *
 * @throws {CompressionMismatchError} With `append`, if `compression` differs from the WIM's;
 *   nothing is written then.
 * @throws {WimIntegrityError} With `check`, if the published bytes differ from the WIM written.
 * @throws {WimkitError} If the capture or a transfer fails (after the retries).
 *
 * @example Publish to a share folder
 * ```ts
 * import { captureToShare } from "./capture_to_share.ts";
 * import assert from "node:assert/strict";
 * const share = await Deno.makeTempDir();
 * const report = await captureToShare({
 *   source: "examples/sample-tree",
 *   destination: `${share}/sample.wim`,
 *   compression: "xpress",
 *   check: true,
 * });
 * assert.ok(report.published && report.verified && report.images === 1);
 * await Deno.remove(share, { recursive: true });
 * ```
 */
export async function captureToShare(
  options: CaptureToShareOptions,
): Promise<CaptureToShareReport> {
  const started = performance.now();
  const scan = await scanTree(options.source, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const image: ImageToWrite = {
    root: scan.root,
    name: options.name ?? (basename(options.source.replace(/[\\/]+$/, "")) || "image"),
    ...(options.description ? { description: options.description } : {}),
  };
  const write: WriteOptions = {
    ...(options.compression ? { compression: options.compression } : {}),
    ...(options.solid ? { solid: true } : {}),
    ...(options.check ? { check: true } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const result = isWebDavUrl(options.destination)
    ? await publishToWebDav(options, image, write)
    : await publishToPath(options, image, write);
  const { destination, ...rest } = result;
  return {
    destination,
    published: true,
    ...rest,
    durationMs: Math.round(performance.now() - started),
  };
}

type Published = Omit<CaptureToShareReport, "published" | "durationMs">;

async function publishToPath(
  options: CaptureToShareOptions,
  image: ImageToWrite,
  write: WriteOptions,
): Promise<Published> {
  const destination = options.destination;
  let report: WriteReport;
  if (options.append) {
    if (!(await Deno.stat(destination).then(() => true, () => false))) {
      throw new WimkitError(`Cannot append to "${destination}": no such file`, "not-found", {
        file: destination,
      });
    }
    await checkAppend(destination, destination, options);
    report = await appendToWim(destination, [image], write);
    if (options.check) await verifyFile(destination, destination, options);
  } else if (options.check) {
    const temp = `${destination}${UPLOAD_SUFFIX}${randomTag()}`;
    try {
      report = await createWim(temp, [image], write);
      await verifyFile(temp, destination, options);
      await Deno.rename(temp, destination);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  } else {
    report = await createWim(destination, [image], write);
  }
  const summary = await summarize(destination);
  return {
    destination,
    appended: options.append === true,
    bytes: summary.bytes,
    images: summary.images,
    addedImages: report.addedImages,
    compression: summary.compression,
    uploadAttempts: 0,
    verified: options.check === true,
  };
}

async function publishToWebDav(
  options: CaptureToShareOptions,
  image: ImageToWrite,
  write: WriteOptions,
): Promise<Published> {
  const url = options.destination;
  const shown = redactUrl(url);
  const dav = {
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retryDelayMs === undefined ? {} : { backoffMs: options.retryDelayMs }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const transfer = { ...dav, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const work = await Deno.makeTempDir({ prefix: "wimkit-share-" });
  try {
    const local = join(work, "image.wim");
    let report: WriteReport;
    let originalEtag: string | undefined;
    if (options.append) {
      try {
        originalEtag = (await download(url, local, transfer)).etag;
      } catch (error) {
        if (error instanceof WebDavError && error.status === 404) {
          throw new WimkitError(
            `Cannot append to "${shown}": it does not exist on the share`,
            "not-found",
            { file: shown, cause: error },
          );
        }
        throw error;
      }
      await checkAppend(local, shown, options);
      report = await appendToWim(local, [image], write);
    } else {
      report = await createWim(local, [image], write);
    }
    const summary = await summarize(local);
    // A fresh temporary name per attempt: a server may still finish a cut upload later.
    const tried: string[] = [];
    const uploadUrl = () => {
      const upload = new URL(url);
      upload.pathname += `${UPLOAD_SUFFIX}${randomTag()}`;
      tried.push(upload.href);
      return upload.href;
    };
    let moved: string | undefined;
    try {
      let upload: string;
      try {
        upload = (await putFile(uploadUrl, local, transfer)).url;
      } catch (error) {
        // A missing parent folder: 409 per RFC 4918 §9.7.1; some servers answer 404.
        const missingParent = error instanceof WebDavError &&
          (error.status === 409 || error.status === 404);
        if (!missingParent || options.append) throw error;
        await makeParents(url, dav);
        upload = (await putFile(uploadUrl, local, transfer)).url;
      }
      const uploaded = await head(upload, dav);
      if (uploaded === null || uploaded.size !== undefined && uploaded.size !== summary.bytes) {
        throw new WimkitError(
          `Cannot publish "${shown}": the share holds ${
            uploaded?.size ?? 0
          } bytes of the ${summary.bytes} uploaded`,
          "io",
          { file: shown },
        );
      }
      if (options.check) await verifyUpload(upload, local, work, shown, options, transfer);
      if (originalEtag !== undefined) {
        const now = await head(url, dav);
        if (now?.etag !== undefined && now.etag !== originalEtag) {
          throw new WimkitError(
            `Cannot append to "${shown}": it changed on the share while the image was added; run again`,
            "io",
            { file: shown },
          );
        }
      }
      await move(upload, url, { ...dav, overwrite: true });
      moved = upload;
    } finally {
      await removeUploads(tried.filter((upload) => upload !== moved), dav);
    }
    return {
      destination: shown,
      appended: options.append === true,
      bytes: summary.bytes,
      images: summary.images,
      addedImages: report.addedImages,
      compression: summary.compression,
      uploadAttempts: tried.length,
      verified: options.check === true,
    };
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * Deletes abandoned uploads, best effort, and looks again a moment later: a server may still be
 * writing an upload whose connection was cut when the first DELETE arrives.
 */
async function removeUploads(urls: string[], dav: WebDavOptions): Promise<void> {
  if (urls.length === 0) return;
  const options = { ...dav, retries: 1, signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) };
  for (const delayMs of [0, ...CLEANUP_RECHECK_MS]) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    for (const upload of urls) await remove(upload, options).catch(() => false);
  }
}

/** Refuses an append whose compression differs from the WIM's, before anything is written. */
async function checkAppend(path: string, shown: string, options: CaptureToShareOptions) {
  await using wim = await Wim.open(path);
  const requested = options.compression ?? (options.solid ? "lzms" : undefined);
  if (requested !== undefined && requested !== wim.compression) {
    throw new CompressionMismatchError(
      `Cannot append to "${shown}": it is ${wim.compression.toUpperCase()}-compressed, not ${requested.toUpperCase()}; append with compression ${wim.compression}, or publish a new WIM`,
      { file: shown },
    );
  }
}

/** Verifies the WIM at `path` (published as `shown`). */
async function verifyFile(path: string, shown: string, options: CaptureToShareOptions) {
  await using wim = await Wim.open(path, options.pool ? { pool: options.pool } : {});
  try {
    await verifyWim(wim, {
      ...(options.pool ? { pool: options.pool } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const message = `Cannot publish "${shown}": the WIM written does not verify: ${
      error instanceof Error ? error.message : String(error)
    }`;
    if (error instanceof WimIntegrityError) {
      throw new WimIntegrityError(message, { file: shown, cause: error });
    }
    if (error instanceof WimkitError) {
      throw new WimkitError(message, error.code, { file: shown, cause: error });
    }
    throw error;
  }
}

/** Reads the upload back, checks it is byte for byte the local WIM, and verifies it. */
async function verifyUpload(
  uploadUrl: string,
  local: string,
  work: string,
  shown: string,
  options: CaptureToShareOptions,
  transfer: Parameters<typeof download>[2],
) {
  const copy = join(work, "read-back.wim");
  await download(uploadUrl, copy, transfer);
  const [expected, actual] = await Promise.all([sha256(local), sha256(copy)]);
  if (expected !== actual) {
    throw new WimIntegrityError(
      `Cannot publish "${shown}": the uploaded bytes differ from the WIM written (SHA-256 ${actual}, expected ${expected})`,
      { file: shown },
    );
  }
  await verifyFile(copy, shown, options);
  await Deno.remove(copy);
}

async function summarize(
  path: string,
): Promise<{ bytes: number; images: number; compression: CompressionType }> {
  await using wim = await Wim.open(path);
  return { bytes: wim.fileSize, images: wim.imageCount, compression: wim.compression };
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

function randomTag(): string {
  return crypto.randomUUID().slice(0, 8);
}
