/** `verify WIMFILE [--ref=GLOB]`: check every structure, blob and the integrity table. */

import type { Command } from "commander";
import { verifyWim } from "../../mod.ts";
import { type Output, printJson } from "../ui/output.ts";
import {
  type CommonOptions,
  openWim,
  progressReporter,
  withCommonOptions,
  workerPool,
} from "./common.ts";

interface VerifyOptions extends CommonOptions {
  json?: boolean;
}

/** Registers `verify`. */
export function registerVerify(program: Command, output: Output): void {
  withCommonOptions(
    program.command("verify")
      .description("check the integrity table, every image's metadata and every blob's SHA-1")
      .argument("<wimfile>", "the WIM (or first part of a split set)")
      .option("--json", "print a JSON report"),
  ).action(async (file: string, options: VerifyOptions) => {
    await using wim = await openWim(file, options);
    using pool = workerPool();
    const progress = progressReporter("Verifying", output, options);
    try {
      const report = await verifyWim(wim, { pool, onProgress: progress.onProgress });
      progress.finish();
      if (options.json) printJson(output, report);
      else {
        output.out(
          `"${file}" is valid: ${report.images} image(s), ${report.blobs} blobs, ${report.bytes} bytes checked${
            report.integrityTable ? ", integrity table matches" : ""
          }`,
        );
      }
    } finally {
      progress.finish();
    }
  });
}
