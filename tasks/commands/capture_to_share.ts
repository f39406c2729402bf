/**
 * `capture-to-share SOURCE DESTINATION [NAME [DESCRIPTION]]`: capture a tree and publish the WIM
 * to a share folder or a WebDAV URL (the capture-to-share recipe).
 */

import type { Command } from "commander";
import { type ChunkPool, WorkerChunkPool } from "../../mod.ts";
import {
  captureToShare,
  type CaptureToShareEvent,
  type CaptureToShareOptions,
} from "../../recipes/capture_to_share.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { parseCompression } from "./capture.ts";
import { type CommonOptions, progressReporter, withCommonOptions } from "./common.ts";

interface CaptureToShareFlags extends CommonOptions {
  compress?: string;
  solid?: boolean;
  check?: boolean;
  append?: boolean;
  retries?: number;
  json?: boolean;
}

function retryCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--retries "${value}" is not a whole number >= 0`);
  }
  return n;
}

/** Registers `capture-to-share`. */
export function registerCaptureToShare(program: Command, output: Output): void {
  const command = program.command("capture-to-share")
    .description(
      "capture a directory tree and publish the WIM to a share folder or a WebDAV URL, " +
        "under a temporary name until it is complete",
    )
    .argument("<source>", "the directory to capture")
    .argument(
      "<destination>",
      "the WIM to publish: a path (local or a mounted share) or an http(s):// WebDAV URL " +
        "(user:password@ for Basic authentication)",
    )
    .argument("[name]", "image name (default: the source's name)")
    .argument("[description]", "image description")
    .option("--compress <type>", "none, xpress (fast), lzx (maximum), lzms, recovery (solid lzms)")
    .option("--solid", "one solid LZMS resource (the .esd layout)")
    .option("--check", "write an integrity table and verify the published bytes before the rename")
    .option("--append", "add the image to the existing WIM (same compression only)")
    .option("--retries <n>", "retries of each WebDAV request (default 3)", retryCount)
    .option("--json", "print a JSON report");
  withCommonOptions(command, false).action(
    async (
      source: string,
      destination: string,
      name: string | undefined,
      description: string | undefined,
      flags: CaptureToShareFlags,
    ) => {
      await run(source, destination, name, description, flags, output);
    },
  );
}

async function run(
  source: string,
  destination: string,
  name: string | undefined,
  description: string | undefined,
  flags: CaptureToShareFlags,
  output: Output,
): Promise<void> {
  const compression = flags.compress ? parseCompression(flags.compress) : undefined;
  const capturing = progressReporter("Capturing", output, flags);
  const transfers = {
    upload: progressReporter("Uploading", output, flags),
    download: progressReporter("Downloading", output, flags),
  };
  const onProgress = (event: CaptureToShareEvent) => {
    if (!("attempt" in event)) return capturing.onProgress(event);
    capturing.finish();
    transfers[event.type].onProgress({
      type: "verify",
      doneBytes: event.doneBytes,
      totalBytes: event.totalBytes,
    });
  };
  using pool: ChunkPool = new WorkerChunkPool();
  const options: CaptureToShareOptions = {
    source,
    destination,
    pool,
    onProgress,
    ...(name ? { name } : {}),
    ...(description ? { description } : {}),
    ...(compression ? { compression: compression.type } : {}),
    ...(flags.solid || compression?.solid ? { solid: true } : {}),
    ...(flags.check ? { check: true } : {}),
    ...(flags.append ? { append: true } : {}),
    ...(flags.retries === undefined ? {} : { retries: flags.retries }),
  };
  try {
    const report = await captureToShare(options);
    for (const reporter of [capturing, transfers.upload, transfers.download]) reporter.finish();
    if (flags.json) {
      printJson(output, report);
      return;
    }
    const attempts = report.uploadAttempts > 1 ? ` after ${report.uploadAttempts} attempts` : "";
    output.out(
      `${report.appended ? "Appended image" : "Published image"} ${
        report.addedImages.join(", ")
      } to "${report.destination}"${attempts}: ${report.images} image(s), ${report.bytes} bytes, ${report.compression.toUpperCase()}${
        report.verified ? ", verified" : ""
      }`,
    );
  } finally {
    for (const reporter of [capturing, transfers.upload, transfers.download]) reporter.finish();
  }
}
