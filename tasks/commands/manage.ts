/**
 * Image management: `delete`, `export`, `optimize`, `split`, `join` and `update`.
 */

import type { Command } from "commander";
import {
  deleteImages,
  exportImages,
  exportImagesToPipe,
  joinWim,
  optimizeWim,
  parseUpdateCommands,
  splitWim,
  updateImage,
  WorkerChunkPool,
  type WriteOptions,
  type WriteReport,
} from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { parseCompression } from "./capture.ts";
import { checkStdoutWrite, STDIO_WIMFILE } from "./pipe_io.ts";
import {
  type CommonOptions,
  openWim,
  progressReporter,
  selectImage,
  withCommonOptions,
} from "./common.ts";

interface ManageOptions extends CommonOptions {
  compress?: string;
  solid?: boolean;
  boot?: boolean;
  check?: boolean;
  recompress?: boolean;
  pipable?: boolean;
  command?: string[];
  json?: boolean;
}

function writeOptions(
  options: ManageOptions,
  pool: WorkerChunkPool,
  onProgress: WriteOptions["onProgress"],
): WriteOptions {
  const compression = options.compress ? parseCompression(options.compress) : undefined;
  return {
    pool,
    ...(onProgress ? { onProgress } : {}),
    ...(compression ? { compression: compression.type, level: compression.level } : {}),
    ...(options.solid || compression?.solid ? { solid: true } : {}),
    ...(options.boot ? { boot: true } : {}),
    ...(options.check ? { check: true } : {}),
    ...(options.recompress ? { recompress: true } : {}),
    ...(options.pipable ? { pipable: true } : {}),
  };
}

/** Runs a write with a pool and a progress bar, then prints the report. */
async function withWriter(
  label: string,
  output: Output,
  options: ManageOptions,
  run: (write: WriteOptions) => Promise<WriteReport>,
  summary: (report: WriteReport) => string,
  summaryToStderr = false,
): Promise<void> {
  using pool = new WorkerChunkPool();
  const progress = progressReporter(label, output, options);
  try {
    const report = await run(writeOptions(options, pool, progress.onProgress));
    progress.finish();
    if (options.json) printJson(output, report);
    else if (summaryToStderr) output.err(summary(report));
    else output.out(summary(report));
  } finally {
    progress.finish();
  }
}

/** Registers the management commands. */
export function registerManage(program: Command, output: Output): void {
  withCommonOptions(
    program.command("delete").description(
      "delete an image (or all) and drop data no other image uses",
    )
      .argument("<wimfile>", "the WIM").argument("<image>", "1-based index, name, or all")
      .option("--check", "write an integrity table").option("--json", "print a JSON report"),
    false,
  ).action(async (file: string, image: string, options: ManageOptions) => {
    let index: number | "all" = "all";
    if (image !== "all") {
      await using wim = await openWim(file, options);
      index = wim.resolveImage(image);
    }
    await withWriter(
      "Deleting",
      output,
      options,
      (w) => deleteImages(file, index, w),
      (r) =>
        `Deleted image ${image} from "${file}": ${r.imageCount} image(s) left, ${r.sizeBytes} bytes`,
    );
  });

  withCommonOptions(
    program.command("export").description("copy images to a new WIM or into an existing one")
      .argument("<source>", "the source WIM").argument("<image>", "1-based index, name, or all")
      .argument("<destination>", 'the WIM to create or append to, or "-" for standard output')
      .argument("[name]", "new image name (one image only)").argument(
        "[description]",
        "new description",
      )
      .option(
        "--compress <type>",
        "compression of a new destination (default: the source's); recompresses when it differs",
      )
      .option("--solid", "solid LZMS (.esd layout)").option(
        "--boot",
        "mark the exported image bootable",
      )
      .option("--check", "write an integrity table").option(
        "--recompress",
        "compress everything again",
      )
      .option("--pipable", 'a new destination in wimlib\'s pipable layout ("-" implies it)')
      .option("--json", "print a JSON report"),
  ).action(
    async (
      source: string,
      image: string,
      destination: string,
      name: string | undefined,
      description: string | undefined,
      options: ManageOptions,
    ) => {
      await using wim = await openWim(source, options);
      const indexes = image === "all"
        ? wim.images().map((i) => i.index)
        : [wim.resolveImage(image)];
      if ((name || description) && indexes.length > 1) {
        throw new UsageError(
          "NAME and DESCRIPTION need a single image",
        );
      }
      const toStdout = destination === STDIO_WIMFILE;
      if (toStdout) checkStdoutWrite(options);
      await withWriter(
        "Exporting",
        output,
        options,
        (w) => {
          const exportOptions = {
            ...w,
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
          };
          return toStdout
            ? exportImagesToPipe(wim, indexes, Deno.stdout, exportOptions)
            : exportImages(wim, indexes, destination, exportOptions);
        },
        (r) =>
          `Exported ${indexes.length} image(s) to "${destination}" as ${
            r.addedImages.join(", ")
          }: ${r.copiedBlobs} blobs copied, ${r.newBlobs} compressed, ${r.reusedBlobs} reused; ${r.sizeBytes} bytes`,
        toStdout,
      );
    },
  );

  withCommonOptions(
    program.command("optimize").description("rebuild a WIM without unused or duplicate data")
      .argument("<wimfile>", "the WIM")
      .option("--recompress", "compress everything again").option(
        "--compress <type>",
        "change the compression type",
      )
      .option("--check", "write an integrity table").option("--json", "print a JSON report"),
    false,
  ).action(async (file: string, options: ManageOptions) => {
    const before = (await Deno.stat(file)).size;
    await withWriter(
      "Optimizing",
      output,
      options,
      (w) => optimizeWim(file, w),
      (r) => `Optimized "${file}": ${before} -> ${r.sizeBytes} bytes`,
    );
  });

  withCommonOptions(
    program.command("split").description("split a WIM into .swm parts of at most PART_SIZE MiB")
      .argument("<wimfile>", "the WIM").argument(
        "<swmfile>",
        "name of the first part, e.g. install.swm",
      )
      .argument("<part-size-mib>", "largest part size in MiB (e.g. 3800 for FAT32)")
      .option("--json", "print the part names as JSON"),
    false,
  ).action(async (file: string, swm: string, size: string, options: ManageOptions) => {
    const mib = Number(size);
    if (!(mib > 0)) throw new UsageError(`PART_SIZE "${size}" is not a positive number of MiB`);
    const parts = await splitWim(file, swm, Math.floor(mib * 1048576));
    if (options.json) printJson(output, { parts });
    else output.out(`Split "${file}" into ${parts.length} parts: ${parts.join(", ")}`);
  });

  withCommonOptions(
    program.command("join").description("join a split set into one WIM")
      .argument("<wimfile>", "the WIM to create").argument("<parts...>", "every part of the set")
      .option("--check", "write an integrity table").option("--json", "print a JSON report"),
    false,
  ).action(async (out: string, parts: string[], options: ManageOptions) => {
    await withWriter(
      "Joining",
      output,
      options,
      (w) => joinWim(out, parts, w),
      (r) =>
        `Joined ${parts.length} parts into "${out}": ${r.imageCount} image(s), ${r.sizeBytes} bytes`,
    );
  });

  withCommonOptions(
    program.command("update").description(
      "change an image in place with add / delete / rename commands (stdin or --command)",
    )
      .argument("<wimfile>", "the WIM").argument(
        "[image]",
        "1-based index or name (optional with one image)",
      )
      .option(
        "--command <line>",
        "one command instead of stdin (repeatable)",
        (v: string, p: string[] = []) => [...p, v],
      )
      .option("--check", "write an integrity table").option("--json", "print a JSON report"),
    false,
  ).action(async (file: string, image: string | undefined, options: ManageOptions) => {
    const text = options.command
      ? options.command.join("\n")
      : await new Response(Deno.stdin.readable).text();
    const commands = parseUpdateCommands(text);
    let index: number;
    {
      await using wim = await openWim(file, options);
      index = selectImage(wim, image);
    }
    await withWriter(
      "Updating",
      output,
      options,
      (w) => updateImage(file, index, commands, w),
      (r) =>
        `Updated image ${index} of "${file}" (${commands.length} command(s)): ${r.newBlobs} new blobs; ${r.sizeBytes} bytes`,
    );
  });
}
