/**
 * Applies an image of a pipable WIM arriving on a non-seekable stream (`apply - TARGET`): the
 * image's metadata comes first in the stream, then the file data in stream order, each blob
 * written to every file that uses it by the same code as a normal apply (lib/fs/apply.ts), with
 * the same path safety.
 */

import { InlineChunkPool } from "../codecs/chunk_pool.ts";
import { WimkitError } from "../errors.ts";
import { HeaderFlag } from "../format/constants.ts";
import { parseMetadata } from "../format/metadata.ts";
import { PipeSource } from "../io/pipe_source.ts";
import { PipableStream } from "../wim/pipable_stream.ts";
import { applyImageData, type ApplyOptions, type ApplyReport } from "./apply.ts";
import type { ApplyDataSource } from "./apply_source.ts";

/** Options for {@linkcode applyPipableStream}. */
export interface PipableApplyOptions extends Omit<ApplyOptions, "paths"> {
  /** Name of the stream in messages (default "standard input"). */
  name?: string;
}

/**
 * Applies image `image` (1-based index or name; may be left out when the WIM holds one image) of
 * the pipable WIM read from `stream` to the directory `target`. The stream is read once, to its
 * end; memory stays bounded whatever the size of the files.
 *
 * @throws {WimFormatError} If the stream is not a pipable WIM, or is truncated.
 * @throws {WimIntegrityError} If data does not match its SHA-1.
 * @throws {WimkitError} If the image does not exist or a blob is missing.
 *
 * @example Apply a pipable WIM read as a stream (`Deno.stdin.readable` for `apply -`)
 * ```ts
 * import { applyPipableStream, createWim, scanTree } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const { root } = await scanTree("examples/sample-tree");
 * const path = await Deno.makeTempFile();
 * await createWim(path, [{ root, name: "sample" }], { pipable: true });
 * const target = await Deno.makeTempDir();
 * const file = await Deno.open(path);
 * const report = await applyPipableStream(file.readable, undefined, target);
 * assert.ok(report.files > 0);
 * await Deno.remove(target, { recursive: true });
 * await Deno.remove(path);
 * ```
 */
export async function applyPipableStream(
  stream: ReadableStream<Uint8Array>,
  image: string | number | undefined,
  target: string,
  options: PipableApplyOptions = {},
): Promise<ApplyReport> {
  const source = new PipeSource(stream, options.name ?? "standard input");
  try {
    const wim = await PipableStream.open(source);
    const index = resolveImage(wim, image);
    const pool = options.pool ?? new InlineChunkPool();
    const metadata = parseMetadata(await wim.readMetadata(index, pool));
    const data: ApplyDataSource = {
      name: source.name,
      rpfix: (wim.header.flags & HeaderFlag.RP_FIX) !== 0,
      missingHint: "",
      // Sizes are learned as the data arrives; a missing blob is found at the end of the stream.
      blob: (hashHex) => ({ hashHex, size: 0 }),
      readBlobs: (blobs, readOptions) =>
        wim.readBlobs(new Set(blobs.map((b) => b.hashHex)), pool, readOptions.signal),
    };
    return await applyImageData(data, index, metadata, target, options);
  } finally {
    await source.cancel();
  }
}

function resolveImage(wim: PipableStream, spec: string | number | undefined): number {
  const count = wim.header.imageCount;
  const text = spec === undefined ? undefined : String(spec).trim();
  if (text === undefined) {
    if (count === 1) return 1;
    throw new WimkitError(
      `${wim.name} holds ${count} images; name one by index or name`,
      "usage",
    );
  }
  if (/^[0-9]+$/.test(text)) {
    const index = Number(text);
    if (index >= 1 && index <= count) return index;
    throw new WimkitError(
      `${wim.name} has no image ${index} (it has ${count} image${count === 1 ? "" : "s"})`,
      "not-found",
    );
  }
  const match = wim.xml.images().find((info) => info.name === text);
  if (!match) throw new WimkitError(`${wim.name} has no image named "${text}"`, "not-found");
  return match.index;
}
