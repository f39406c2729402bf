/**
 * `-` as WIMFILE: `apply - [IMAGE] TARGET` and `info -` read a pipable WIM from standard input, and
 * `capture SOURCE -` / `export SOURCE IMAGE -` write one to standard output.
 */

import {
  applyPipableStream,
  type PipableWimInfo,
  readPipableInfo,
  WorkerChunkPool,
} from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, progressReporter } from "./common.ts";

/** The WIMFILE argument that means standard input or output. */
export const STDIO_WIMFILE = "-";

/** Applies one image of the pipable WIM on standard input to `target`. */
export async function applyFromStdin(
  imageSpec: string | undefined,
  target: string,
  options: CommonOptions & { check?: boolean; json?: boolean },
  output: Output,
): Promise<void> {
  if (imageSpec === "all") {
    throw new UsageError('apply from standard input takes one image, not "all"');
  }
  if (options.check) {
    throw new UsageError("--check needs a WIM file; standard input has no integrity table");
  }
  if (Deno.stdin.isTerminal()) {
    throw new UsageError('standard input is a terminal: pipe a pipable WIM into "apply -"');
  }
  using pool = new WorkerChunkPool();
  const progress = progressReporter("Applying", output, options);
  try {
    const report = await applyPipableStream(Deno.stdin.readable, imageSpec, target, {
      pool,
      onProgress: progress.onProgress,
    });
    progress.finish();
    if (options.json) printJson(output, report);
  } finally {
    progress.finish();
  }
}

/**
 * Reads the pipable WIM on standard input to its end for `info -` (file data is skipped, never
 * held), returning its final header and XML.
 */
export async function readInfoFromStdin(
  options: CommonOptions & { blobs?: boolean },
): Promise<PipableWimInfo> {
  if (options.blobs) {
    throw new UsageError("--blobs needs a WIM file; it is not shown for standard input");
  }
  if (options.ref?.length) {
    throw new UsageError("--ref needs a WIM file; a pipable WIM on standard input is not split");
  }
  if (Deno.stdin.isTerminal()) {
    throw new UsageError('standard input is a terminal: pipe a pipable WIM into "info -"');
  }
  return await readPipableInfo(Deno.stdin.readable, { name: "standard input" });
}

/**
 * Checks options for writing a WIM to standard output, where only a pipable WIM can go and the
 * summary line must go to stderr.
 */
export function checkStdoutWrite(options: { solid?: boolean; json?: boolean }): void {
  if (options.solid) {
    throw new UsageError(
      "a WIM written to standard output is pipable, and pipable WIMs cannot be solid; leave out --solid",
    );
  }
  if (options.json) {
    throw new UsageError("--json cannot be used when the WIM itself goes to standard output");
  }
  if (Deno.stdout.isTerminal()) {
    throw new UsageError("refusing to write a WIM to a terminal: redirect standard output");
  }
}
