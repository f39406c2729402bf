/**
 * Writing pipable WIMs to a pipe (standard output): the writer's pipable layout through a
 * {@linkcode PipeSink}, for `capture SOURCE -` and `export SOURCE IMAGE -`. Writing a pipable WIM
 * to a file is `createWim(path, images, { pipable: true })`.
 */

import { WimkitError } from "../errors.ts";
import { PipeSink, type SyncWriter } from "../io/pipe_sink.ts";
import { type ExportOptions, exportWriteOptions, imagesToExport } from "./manage.ts";
import type { Wim } from "./wim.ts";
import { type ImageToWrite, writeNewWim, type WriteOptions, type WriteReport } from "./writer.ts";

/** Options for writing to a pipe. */
export interface PipeWriteOptions extends WriteOptions {
  /** Name of the pipe in messages and the report (default "standard output"). */
  pipeName?: string;
}

/**
 * Writes `images` as a pipable WIM to `writer` (e.g. `Deno.stdout`), strictly in order.
 *
 * @throws {WimkitError} With `solid` or `check`, which a pipe cannot take.
 *
 * @example Capture a directory to a pipe (`Deno.stdout` for `capture DIR -`)
 * ```ts
 * import { scanTree, writePipableWim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const { root } = await scanTree("examples/sample-tree");
 * let written = 0;
 * const pipe = { writeSync: (data: Uint8Array) => (written += data.length, data.length) };
 * const report = await writePipableWim(pipe, [{ root, name: "sample" }]);
 * assert.ok(report.sizeBytes === written);
 * ```
 */
export async function writePipableWim(
  writer: SyncWriter,
  images: readonly ImageToWrite[],
  options: PipeWriteOptions = {},
): Promise<WriteReport> {
  const name = options.pipeName ?? "standard output";
  if (options.solid) {
    throw new WimkitError(
      `Cannot write a WIM to ${name}: it must be pipable, and pipable WIMs cannot be solid; leave out --solid`,
      "usage",
    );
  }
  if (options.check) {
    throw new WimkitError(
      `Cannot write a WIM with an integrity table to ${name}: leave out --check, or write to a file`,
      "usage",
    );
  }
  return await writeNewWim(new PipeSink(writer, name), name, images, {
    ...options,
    pipable: true,
  });
}

/**
 * Exports images of `source` as a new pipable WIM written to `writer`.
 *
 * @throws {WimkitError} With `solid` or `check`, which a pipe cannot take.
 *
 * @example Export every image to standard output
 * ```ts ignore
 * import { exportImagesToPipe, Wim } from "@wimkit/wimkit";
 * await using wim = await Wim.open("install.wim");
 * await exportImagesToPipe(wim, [1, 2], Deno.stdout);
 * ```
 */
export async function exportImagesToPipe(
  source: Wim,
  indexes: readonly number[],
  writer: SyncWriter,
  options: ExportOptions & PipeWriteOptions = {},
): Promise<WriteReport> {
  const images = await imagesToExport(source, indexes, options);
  return await writePipableWim(
    writer,
    images,
    exportWriteOptions(source, { ...options, pipable: true }),
  );
}
