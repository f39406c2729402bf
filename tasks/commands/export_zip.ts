/** `export-zip WIMFILE IMAGE ZIPFILE [--level N] [--json]`: one image as a .zip. */

import type { Command } from "commander";
import { exportImageToZip } from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, openWim, progressReporter, withCommonOptions } from "./common.ts";
import { withCacheOptions } from "./cache_options.ts";

interface ExportZipCommandOptions extends CommonOptions {
  level?: number;
  json?: boolean;
}

function parseLevel(value: string): number {
  const level = Number(value);
  if (!/^\d$/.test(value.trim()) || !Number.isInteger(level)) {
    throw new UsageError(`--level "${value}" is not a whole number from 0 (store) to 9`);
  }
  return level;
}

/** Registers `export-zip`. */
export function registerExportZip(program: Command, output: Output): void {
  withCommonOptions(withCacheOptions(
    program.command("export-zip")
      .description("write one image as a .zip file (directories, files and their times)")
      .argument("<wimfile>", "the WIM")
      .argument("<image>", "1-based index or name")
      .argument("<zipfile>", "the .zip to write (replaced if it exists)")
      .option(
        "--level <n>",
        "deflate level 1-9, or 0 to store (default: native deflate)",
        parseLevel,
      )
      .option("--json", "print a JSON report"),
  )).action(
    async (file: string, image: string, zipfile: string, options: ExportZipCommandOptions) => {
      await using wim = await openWim(file, options);
      const index = wim.resolveImage(image);
      const progress = progressReporter("Exporting", output, options);
      let report;
      try {
        report = await exportImageToZip(wim, index, zipfile, {
          onProgress: progress.onProgress,
          ...(options.level === undefined ? {} : { level: options.level }),
        });
      } finally {
        progress.finish();
      }
      if (options.json) printJson(output, { zip: zipfile, image: index, ...report });
      else {
        output.out(
          `Exported image ${index} of "${file}" to "${zipfile}": ${report.files} files, ${report.directories} directories, ${report.bytes} bytes${
            report.skipped > 0 ? `; ${report.skipped} entries skipped` : ""
          }`,
        );
      }
    },
  );
}
