/** Pieces every command shares: common options, opening WIMs, image selection, progress. */

import type { Command } from "commander";
import { type ProgressEvent, Wim, WorkerChunkPool } from "../../mod.ts";
import type { ChunkPool } from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, processOutput } from "../ui/output.ts";
import { ProgressBar } from "../ui/progress_bar.ts";
import { expandRefs } from "../ui/refs.ts";
import { type CacheOptions, openCache } from "./cache_options.ts";

/** Options every command accepts (the cache ones only where `withCacheOptions` added them). */
export interface CommonOptions extends CacheOptions {
  debug?: boolean;
  quiet?: boolean;
  ref?: string[];
}

/** Adds --debug, --quiet and --ref to `command`. */
export function withCommonOptions(command: Command, refs = true): Command {
  command
    .option("--debug", "print the stack and causes of an error")
    .option("--quiet", "no progress bar and no warnings");
  if (refs) {
    command.option(
      "--ref <glob>",
      'other parts of a split WIM, e.g. "install*.swm" (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
  }
  return command;
}

/** Opens `path` (a file or an http(s) URL), with the parts named by --ref. */
export async function openWim(
  path: string,
  options: CommonOptions,
  pool?: ChunkPool,
  output: Output = processOutput,
): Promise<Wim> {
  const refs = options.ref ? expandRefs(options.ref) : [];
  const cache = await openCache(options);
  const source = {
    onWarning: (message: string) => {
      if (!options.quiet) output.err(`wimkit: warning: ${message}`);
    },
  };
  return await Wim.open(path, {
    refs,
    source,
    ...(pool ? { pool } : {}),
    ...(cache ? { cache } : {}),
  });
}

/** A worker pool sized to the cores, for commands that decode a lot of data. */
export function workerPool(): ChunkPool {
  return new WorkerChunkPool();
}

/** Resolves an IMAGE argument: index, name, or (when the WIM has one image) nothing. */
export function selectImage(wim: Wim, spec: string | undefined): number {
  if (spec === undefined) {
    if (wim.imageCount === 1) return 1;
    throw new UsageError(
      `"${wim.path}" holds ${wim.imageCount} images; name one by index or name`,
    );
  }
  return wim.resolveImage(spec);
}

/** A progress handler that draws a bar and prints warnings (unless --quiet). */
export function progressReporter(label: string, output: Output, options: CommonOptions) {
  const bar = new ProgressBar(label, { enabled: !options.quiet && Deno.stderr.isTerminal() });
  return {
    onProgress(event: ProgressEvent) {
      if (event.type === "warning") {
        if (!options.quiet) output.err(`wimkit: warning: ${event.message}`);
      } else if (event.type === "apply-blobs") {
        bar.update(event.doneBytes, event.totalBytes, {
          done: event.doneFiles,
          total: event.totalFiles,
        });
      } else if (event.type === "scan") {
        bar.status(
          `${event.files} files, ${event.directories} directories, ${
            (event.bytes / 1048576).toFixed(1)
          } MiB`,
        );
      } else bar.update(event.doneBytes, event.totalBytes);
    },
    finish() {
      bar.finish();
    },
  };
}
