/**
 * An image of a WIM as a tree that servers (WebDAV, FUSE) read and change: the contract of
 * ./types.ts over the mutable tree of lib/wim/image_source.ts. Unchanged files read their blobs
 * through ranged reads (lib/wim/blob_range.ts); new and changed contents live in a staging
 * directory (copy on write for in-place edits); commit is an in-place update of the image (or a
 * new appended image) through appendToWim, after which the view shows the committed image with
 * the same ids. This module opens views; the view itself is lib/view/wim_image_view.ts.
 *
 * Concurrency: all calls come from one thread but async calls interleave. A commit (or discard)
 * waits for writes in flight and refuses changes that arrive meanwhile; a writable view holds an
 * exclusive advisory lock (flock) on the WIM for its whole life, so a second writable view, or a
 * wimlib-imagex that locks the WIM to change it, is refused instead of racing.
 */

import { WimkitError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { WorkerChunkPool } from "../codecs/chunk_pool.ts";
import { HeaderFlag } from "../format/constants.ts";
import { readImageTree } from "../wim/image_source.ts";
import { Wim } from "../wim/wim.ts";
import type { ImageView } from "./types.ts";
import { StagingArea } from "./staging.ts";
import { lockWim, type WimLock } from "./wim_lock.ts";
import { ViewTree } from "./view_tree.ts";
import type { ImageViewStats } from "./wim_contents.ts";
import { WimImageView } from "./wim_image_view.ts";

export type { ImageViewStats } from "./wim_contents.ts";

/** Options for {@linkcode openImageView}. */
export interface ImageViewOptions {
  /** Allow changes (staged until commit). Default false. */
  writable?: boolean;
  /** Parent of the staging directory (default: the system temp directory). */
  stagingDir?: string;
  /** Pool that decodes chunks and compresses new content (default: workers owned by the view). */
  pool?: ChunkPool;
  /** Bound on cached decoded chunks, in bytes (see lib/wim/blob_range.ts). */
  cacheBytes?: number;
  /** Other parts of a split set (read-only views only). */
  refs?: readonly string[];
  /**
   * Host directory the view is seen under (a mount point): absolute link targets stored fixed to
   * the capture root are rebased onto it, as apply rebases them onto its target. Default: none,
   * such targets read as image paths ("/dir/a").
   */
  linkRoot?: string;
}

/**
 * Opens image `image` (1-based index or name) of the WIM at `wimPath` as an {@linkcode ImageView}.
 *
 * @throws {WimkitError} If the WIM cannot be read, the image does not exist, or (writable) the WIM
 *   is locked by another writer.
 *
 * @example List the root of an image
 * ```ts
 * import assert from "node:assert/strict";
 * import { openImageView } from "./image_view.ts";
 * import { InlineChunkPool } from "../codecs/chunk_pool.ts";
 * using pool = new InlineChunkPool();
 * await using view = await openImageView("tests/fixtures/lzx.wim", 1, { pool });
 * assert.equal(view.stat("/")?.kind, "directory");
 * ```
 */
export async function openImageView(
  wimPath: string,
  image: number | string,
  options: ImageViewOptions = {},
): Promise<ImageView> {
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new WorkerChunkPool();
  let lock: WimLock | undefined;
  let wim: Wim | undefined;
  try {
    if (options.writable) {
      if (options.refs?.length || /^https?:\/\//i.test(wimPath)) {
        throw new WimkitError(
          `Cannot change "${wimPath}": only a local, unsplit WIM can be changed in place`,
          "refused",
          { file: wimPath },
        );
      }
      lock = await lockWim(wimPath);
    }
    wim = await Wim.open(wimPath, { pool, ...(options.refs ? { refs: options.refs } : {}) });
    const index = wim.resolveImage(image);
    const counter = { next: 1 };
    const fixups = (wim.header.flags & HeaderFlag.RP_FIX) !== 0;
    const linkRoot = fixups ? options.linkRoot : undefined;
    const tree = new ViewTree(await readImageTree(wim, index), counter, undefined, linkRoot);
    const staging = options.writable ? await StagingArea.create(options.stagingDir) : undefined;
    return new WimImageView({
      wim,
      index,
      tree,
      counter,
      pool,
      ownsPool,
      lock,
      staging,
      ...options,
    });
  } catch (error) {
    wim?.close();
    lock?.release();
    if (ownsPool) pool[Symbol.dispose]();
    throw error;
  }
}

/**
 * The read counters of a view made by {@linkcode openImageView}, or undefined for any other
 * {@linkcode ImageView}. Meant for tests and diagnostics: a 4 KiB read decodes one or two chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageViewStats, openImageView } from "./image_view.ts";
 * import { InlineChunkPool } from "../codecs/chunk_pool.ts";
 * using pool = new InlineChunkPool();
 * await using view = await openImageView("tests/fixtures/lzx.wim", 1, { pool });
 * assert.equal(imageViewStats(view)?.decodedChunks, 0);
 * ```
 */
export function imageViewStats(view: ImageView): ImageViewStats | undefined {
  return view instanceof WimImageView ? view.stats : undefined;
}
