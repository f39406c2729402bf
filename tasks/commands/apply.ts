/**
 * `apply WIMFILE [IMAGE|all] TARGET [--check] [--ref=GLOB]` and
 * `extract WIMFILE IMAGE PATH... --dest-dir=DIR`.
 */

import type { Command } from "commander";
import {
  applyImage,
  type ApplyReport,
  type ChunkPool,
  InlineChunkPool,
  type Wim,
} from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import {
  type CommonOptions,
  openWim,
  progressReporter,
  selectImage,
  withCommonOptions,
  workerPool,
} from "./common.ts";
import { cacheSummary, withCacheOptions } from "./cache_options.ts";
import { applyFromStdin, STDIO_WIMFILE } from "./pipe_io.ts";

interface ApplyCommandOptions extends CommonOptions {
  check?: boolean;
  json?: boolean;
  destDir?: string;
}

/** Image data below which decoding on the calling thread beats starting workers. */
const WORKER_THRESHOLD_BYTES = 8 << 20;

/** Registers `apply` and `extract`. */
export function registerApply(program: Command, output: Output): void {
  withCommonOptions(withCacheOptions(
    program.command("apply")
      .description("apply an image (or all images) to a directory")
      .argument("<wimfile>", 'the WIM, or "-" for a pipable WIM on standard input')
      .argument(
        "<image-and-target...>",
        "[IMAGE|all] TARGET; IMAGE may be left out when the WIM holds one image",
      )
      .option("--check", "verify the integrity table before applying")
      .option("--json", "print a JSON report"),
  )).action(async (file: string, rest: string[], options: ApplyCommandOptions) => {
    if (rest.length > 2) {
      throw new UsageError(`apply takes at most IMAGE and TARGET, got ${rest.length} arguments`);
    }
    const [imageSpec, target] = rest.length === 2 ? rest : [undefined, rest[0]!];
    if (file === STDIO_WIMFILE) return await applyFromStdin(imageSpec, target!, options, output);
    await using wim = await openWim(file, options);
    if (options.check) await wim.checkIntegrity();
    const images = imageSpec === "all"
      ? wim.images().map((i) => ({
        index: i.index,
        target: `${target}/${allTargetName(wim, i.index)}`,
      }))
      : [{ index: selectImage(wim, imageSpec), target: target! }];
    const reports: ApplyReport[] = [];
    using pool = choosePool(wim);
    for (const { index, target: dir } of images) {
      reports.push(await runApply(wim, index, dir, options, output, pool));
    }
    if (wim.cache && !options.quiet) output.err(cacheSummary(wim.cache));
    if (options.json) printJson(output, reports.length === 1 ? reports[0] : reports);
  });

  withCommonOptions(withCacheOptions(
    program.command("extract")
      .description("extract some paths of an image into a directory")
      .argument("<wimfile>", "the WIM")
      .argument("<image>", "1-based index or name")
      .argument("<paths...>", "paths inside the image, e.g. /Windows/System32/config")
      .requiredOption("--dest-dir <dir>", "where to put the extracted paths")
      .option("--json", "print a JSON report"),
  )).action(async (file: string, image: string, paths: string[], options: ApplyCommandOptions) => {
    await using wim = await openWim(file, options);
    const index = wim.resolveImage(image);
    using pool = choosePool(wim);
    const report = await runApply(wim, index, options.destDir!, options, output, pool, paths);
    if (wim.cache && !options.quiet) output.err(cacheSummary(wim.cache));
    if (options.json) printJson(output, report);
  });
}

async function runApply(
  wim: Wim,
  index: number,
  target: string,
  options: ApplyCommandOptions,
  output: Output,
  pool: ChunkPool,
  paths?: string[],
): Promise<ApplyReport> {
  const progress = progressReporter(paths ? "Extracting" : "Applying", output, options);
  try {
    return await applyImage(wim, index, target, {
      pool,
      onProgress: progress.onProgress,
      ...(paths ? { paths } : {}),
    });
  } finally {
    progress.finish();
  }
}

function choosePool(wim: Wim): ChunkPool {
  if (wim.compression === "none" && wim.header.version !== 0xe00) return new InlineChunkPool();
  let total = 0;
  for (const blob of wim.blobs()) total += blob.size;
  return total >= WORKER_THRESHOLD_BYTES ? workerPool() : new InlineChunkPool();
}

/** Directory name for one image of `apply WIM all TARGET`: its name when usable, else its index. */
function allTargetName(wim: Wim, index: number): string {
  const images = wim.images();
  const name = images[index - 1]!.name;
  const unique = images.filter((i) => i.name === name).length === 1;
  return name && unique && !/[/\\\0]/.test(name) && name !== "." && name !== ".."
    ? name
    : String(index);
}
