/** The recipe commands `apply-to-volume` and `append-with-compression-check`. */

import type { Command } from "commander";
import { WorkerChunkPool } from "../../mod.ts";
import { applyToVolume } from "../../recipes/apply_to_volume.ts";
import { appendWithCompressionCheck } from "../../recipes/append_with_compression_check.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { parseCompression } from "./capture.ts";
import { type CommonOptions, progressReporter, withCommonOptions } from "./common.ts";
import { cacheSummary, openCache, withCacheOptions } from "./cache_options.ts";

interface RecipeOptions extends CommonOptions {
  margin?: string;
  compress?: string;
  convert?: string | boolean;
  json?: boolean;
}

/** Registers the recipe commands. */
export function registerRecipes(program: Command, output: Output): void {
  withCommonOptions(withCacheOptions(
    program.command("apply-to-volume")
      .description(
        "preflight a prepared volume, apply an image to it, then re-read and verify every file",
      )
      .argument("<wimfile>", "the WIM")
      .argument("<image-and-target...>", "[IMAGE] TARGET")
      .option("--margin <percent>", "free space required beyond the image's size", "10")
      .option("--json", "print the report as JSON"),
  )).action(async (wim: string, rest: string[], options: RecipeOptions) => {
    if (rest.length > 2) throw new UsageError("apply-to-volume takes [IMAGE] TARGET");
    const [image, target] = rest.length === 2 ? rest : [undefined, rest[0]!];
    const margin = Number(options.margin) / 100;
    if (!(margin >= 0)) throw new UsageError(`--margin "${options.margin}" is not a percentage`);
    const cache = await openCache(options);
    using pool = new WorkerChunkPool();
    const progress = progressReporter("Applying", output, options);
    try {
      const report = await applyToVolume({
        wim,
        target: target!,
        margin,
        pool,
        onProgress: progress.onProgress,
        ...(image !== undefined ? { image } : {}),
        ...(options.ref ? { refs: options.ref } : {}),
        ...(cache ? { cache } : {}),
      });
      progress.finish();
      if (cache && !options.quiet) output.err(cacheSummary(cache));
      if (options.json) printJson(output, report);
      else {
        for (const warning of report.preflight.warnings) output.err(`wimkit: warning: ${warning}`);
        output.out(
          `Applied image ${report.image} to "${report.target}" and verified ${report.verification.files} files (${report.verification.bytes} bytes): ${
            report.ok
              ? "all match"
              : `${report.verification.mismatches.length} differ: ${
                report.verification.mismatches.join(", ")
              }`
          }`,
        );
      }
      if (!report.ok) {
        throw new UsageError(
          `verification found ${report.verification.mismatches.length} files that differ`,
        );
      }
    } finally {
      progress.finish();
    }
  });

  withCommonOptions(
    program.command("append-with-compression-check")
      .description(
        "append a capture only if its compression is the WIM's, or convert with --convert",
      )
      .argument("<source>", "the directory to capture").argument("<wimfile>", "the existing WIM")
      .argument("[name]", "image name").argument("[description]", "image description")
      .requiredOption("--compress <type>", "the compression the new image must have")
      .option(
        "--convert [output]",
        "on a mismatch, export into a new WIM of that compression and append there",
      )
      .option("--json", "print the report as JSON"),
    false,
  ).action(
    async (
      source: string,
      wim: string,
      name: string | undefined,
      description: string | undefined,
      options: RecipeOptions,
    ) => {
      const { type } = parseCompression(options.compress!);
      using pool = new WorkerChunkPool();
      const progress = progressReporter("Appending", output, options);
      try {
        const report = await appendWithCompressionCheck({
          source,
          wim,
          compression: type,
          pool,
          onProgress: progress.onProgress,
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(options.convert !== undefined ? { convert: options.convert } : {}),
        });
        progress.finish();
        if (options.json) printJson(output, report);
        else {
          output.out(
            `${
              report.converted
                ? `Converted "${wim}" (${report.originalCompression}) to "${report.wim}" (${report.compression}) and appended`
                : "Appended"
            } image ${report.image} to "${report.wim}" (${report.imageCount} images)`,
          );
        }
      } finally {
        progress.finish();
      }
    },
  );
}
