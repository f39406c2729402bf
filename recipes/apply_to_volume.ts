/**
 * apply-to-volume: deploy an image onto a prepared volume. Preflight (the target is a writable
 * directory or mount point with enough free space, as the OS reports it; a warning when it already
 * holds a Windows tree), then the non-destructive apply, then a verification pass that re-reads
 * every applied file and compares its SHA-1 with the image's.
 */

import { createHash } from "node:crypto";
import { statfsSync } from "node:fs";
import { WimkitError } from "../lib/errors.ts";
import type { ProgressEvent } from "../lib/progress.ts";
import type { ChunkPool } from "../lib/codecs/chunk_pool.ts";
import { dentryStreams, walkTree } from "../lib/format/metadata.ts";
import { applyImage, type ApplyReport } from "../lib/fs/apply.ts";
import { Wim } from "../lib/wim/wim.ts";
import type { BlobCache } from "../lib/wim/blob_cache.ts";

/** Options for {@linkcode applyToVolume}. */
export interface ApplyToVolumeOptions {
  /** The WIM (first part of a split set). */
  wim: string;
  /** 1-based index or name; optional when the WIM holds one image. */
  image?: string | number;
  /** The prepared volume (a directory or mount point). */
  target: string;
  /** Other parts of a split set. */
  refs?: string[];
  /** Extra free space required beyond the image's size, as a fraction (default 0.1 = 10%). */
  margin?: number;
  /** Where chunks are decoded. */
  pool?: ChunkPool;
  /** Blob cache shared with other applies (the data it holds is not read from the WIM). */
  cache?: BlobCache;
  /** Progress events of the apply and the verification. */
  onProgress?: (event: ProgressEvent) => void;
  /** Free bytes available at a path (default: statfs); injectable for tests. */
  freeBytes?: (path: string) => number;
}

/** What the preflight found. */
export interface VolumePreflight {
  readonly freeBytes: number;
  readonly requiredBytes: number;
  readonly existingWindows: boolean;
  readonly warnings: string[];
}

/** The report of {@linkcode applyToVolume}. */
export interface ApplyToVolumeReport {
  readonly wim: string;
  readonly image: number;
  readonly target: string;
  readonly preflight: VolumePreflight;
  readonly apply: ApplyReport;
  /** Files re-read and compared, and the paths whose SHA-1 did not match. */
  readonly verification: {
    readonly files: number;
    readonly bytes: number;
    readonly mismatches: string[];
  };
  /** True when every applied file matched. */
  readonly ok: boolean;
  readonly durationMs: number;
}

/** Free bytes for unprivileged users on the filesystem holding `path`. */
function statfsFreeBytes(path: string): number {
  const stats = statfsSync(path);
  return Number(stats.bavail) * Number(stats.bsize);
}

/**
 * Checks the target, applies the image and verifies every applied file.
 *
 * @throws {WimkitError} code "refused" when the target is not a writable directory or lacks free
 *   space; nothing is written then.
 *
 * @example
 * ```ts
 * import { applyToVolume } from "./apply_to_volume.ts";
 * import assert from "node:assert/strict";
 * const target = await Deno.makeTempDir();
 * const report = await applyToVolume({ wim: "tests/fixtures/lzx.wim", target });
 * assert.ok(report.ok && report.verification.mismatches.length === 0);
 * await Deno.remove(target, { recursive: true });
 * ```
 */
export async function applyToVolume(options: ApplyToVolumeOptions): Promise<ApplyToVolumeReport> {
  const started = performance.now();
  await using wim = await Wim.open(options.wim, {
    refs: options.refs ?? [],
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const index = options.image === undefined
    ? (wim.imageCount === 1 ? 1 : wim.resolveImage(String(options.image)))
    : wim.resolveImage(options.image);
  const preflight = await checkVolume(options, wim.images()[index - 1]!.totalBytes);
  const apply = await applyImage(wim, index, options.target, {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const verification = await verifyApplied(wim, index, options.target, options.onProgress);
  return {
    wim: options.wim,
    image: index,
    target: options.target,
    preflight,
    apply,
    verification,
    ok: verification.mismatches.length === 0,
    durationMs: Math.round(performance.now() - started),
  };
}

async function checkVolume(
  options: ApplyToVolumeOptions,
  imageBytes: number,
): Promise<VolumePreflight> {
  const target = options.target;
  const refuse = (why: string) =>
    new WimkitError(`Cannot apply to "${target}": ${why}`, "refused", { file: target });
  const info = await Deno.stat(target).catch(() => null);
  if (!info) throw refuse("it does not exist (prepare and mount the volume first)");
  if (!info.isDirectory) throw refuse("it is not a directory or mount point");
  const probe = `${target}/.wimkit-write-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(probe, new Uint8Array(1));
    await Deno.remove(probe);
  } catch {
    throw refuse("it is not writable");
  }
  const freeBytes = (options.freeBytes ?? statfsFreeBytes)(target);
  const requiredBytes = Math.ceil(imageBytes * (1 + (options.margin ?? 0.1)));
  if (freeBytes < requiredBytes) {
    throw refuse(
      `${freeBytes} bytes free, ${requiredBytes} needed (the image's ${imageBytes} bytes plus margin)`,
    );
  }
  const warnings: string[] = [];
  const existingWindows = await hasWindowsTree(target);
  if (existingWindows) {
    warnings.push(`"${target}" already holds a Windows tree; files the image has will be replaced`);
  }
  return { freeBytes, requiredBytes, existingWindows, warnings };
}

async function hasWindowsTree(target: string): Promise<boolean> {
  for await (const entry of Deno.readDir(target)) {
    if (!entry.isDirectory || entry.name.toLowerCase() !== "windows") continue;
    for await (const inner of Deno.readDir(`${target}/${entry.name}`)) {
      if (inner.name.toLowerCase() === "system32") return true;
    }
  }
  return false;
}

/** Re-reads every applied regular file and compares its SHA-1 with the image's. */
async function verifyApplied(
  wim: Wim,
  index: number,
  target: string,
  onProgress?: (event: ProgressEvent) => void,
): Promise<{ files: number; bytes: number; mismatches: string[] }> {
  const { metadata } = await wim.readImage(index);
  const mismatches: string[] = [];
  let files = 0;
  let bytes = 0;
  const totalBytes = wim.images()[index - 1]!.totalBytes;
  for (const { node, path } of walkTree(metadata.root)) {
    if (node.attributes & 0x410 || path === "") continue; // directories and reparse points
    const expected = dentryStreams(node).data;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(`${target}/${path}`);
    } catch {
      continue; // skipped on apply (unsafe name, special file): reported by the apply's warnings
    }
    const hash = createHash("sha1");
    for await (const piece of file.readable) {
      hash.update(piece);
      bytes += piece.length;
    }
    files++;
    const digest = hash.digest("hex");
    const want = expected
      ? [...expected].map((b) => b.toString(16).padStart(2, "0")).join("")
      : EMPTY_SHA1;
    if (digest !== want) mismatches.push(`/${path}`);
    onProgress?.({ type: "verify", doneBytes: bytes, totalBytes });
  }
  return { files, bytes, mismatches };
}

/** SHA-1 of no bytes. */
const EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
