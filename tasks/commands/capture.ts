/**
 * `capture SOURCE WIMFILE [NAME [DESCRIPTION]]` and `append SOURCE WIMFILE [NAME [DESCRIPTION]]`.
 */

import type { Command } from "commander";
import {
  appendToWim,
  type ChunkPool,
  type CompressionType,
  createWim,
  InlineChunkPool,
  parseCaptureConfig,
  scanTree,
  scanZip,
  Wim,
  windowsProperties,
  WorkerChunkPool,
  type WriteOptions,
  writePipableWim,
} from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, progressReporter, withCommonOptions } from "./common.ts";
import { checkStdoutWrite, STDIO_WIMFILE } from "./pipe_io.ts";

interface CaptureOptions extends CommonOptions {
  compress?: string;
  check?: boolean;
  boot?: boolean;
  solid?: boolean;
  chunkSize?: number;
  threads?: number;
  config?: string;
  unixData?: boolean;
  strict?: boolean;
  flags?: string;
  imageProperty?: string[];
  norpfix?: boolean;
  pipable?: boolean;
  json?: boolean;
}

/** ImageX and DISM names for compression types. */
const ALIASES: Record<string, { type: CompressionType; solid?: boolean }> = {
  none: { type: "none" },
  xpress: { type: "xpress" },
  fast: { type: "xpress" },
  lzx: { type: "lzx" },
  maximum: { type: "lzx" },
  lzms: { type: "lzms" },
  recovery: { type: "lzms", solid: true },
};

/** Parses `--compress` ("lzx", "maximum", "lzx:20"). */
export function parseCompression(
  text: string,
): { type: CompressionType; level: number; solid: boolean } {
  const [name, levelText] = text.toLowerCase().split(":");
  const alias = ALIASES[name!];
  if (!alias) {
    throw new UsageError(
      `--compress "${text}" is not one of none, xpress, lzx, lzms, fast, maximum, recovery`,
    );
  }
  const level = levelText === undefined ? 0 : Number(levelText);
  if (!Number.isInteger(level) || level < 1 && levelText !== undefined) {
    throw new UsageError(`--compress level "${levelText}" is not a positive whole number`);
  }
  return { type: alias.type, level, solid: alias.solid === true };
}

function integer(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`${name} "${value}" is not a positive whole number`);
    }
    return n;
  };
}

/** Registers `capture` and `append`. */
export function registerCapture(program: Command, output: Output): void {
  for (const mode of ["capture", "append"] as const) {
    const command = program.command(mode)
      .description(
        mode === "capture"
          ? "capture a directory tree into a new WIM"
          : "append a directory tree as a new image",
      )
      .argument("<source>", "the directory (or .zip file) to capture")
      .argument(
        "<wimfile>",
        mode === "capture" ? "the WIM to create (replaced if it exists)" : "the WIM to append to",
      )
      .argument("[name]", "image name (default: the source's name)")
      .argument("[description]", "image description")
      .option(
        "--compress <type>",
        "none, xpress (fast), lzx (maximum), lzms, recovery (solid lzms); optional :LEVEL",
      )
      .option("--check", "write an integrity table")
      .option("--boot", "mark the image bootable")
      .option("--solid", "one solid LZMS resource (the .esd layout)")
      .option("--chunk-size <bytes>", "chunk size of compressed resources", integer("--chunk-size"))
      .option("--threads <n>", "compression threads (default: all cores)", integer("--threads"))
      .option(
        "--config <file>",
        "[ExclusionList] / [ExclusionException] / [CompressionExclusionList] file",
      )
      .option("--unix-data", "store UNIX owner, group, mode and special files, as wimlib does")
      .option("--strict", "fail on unreadable or special files instead of skipping them")
      .option("--flags <editionid>", "the image's FLAGS element (edition id)")
      .option(
        "--image-property <name=value>",
        "set an XML element of the image (repeatable)",
        (v: string, p: string[] = []) => [...p, v],
      )
      .option("--norpfix", "store absolute symbolic link targets as they are")
      .option(
        "--pipable",
        'wimlib\'s pipable layout, readable from a pipe (WIMFILE "-" = standard output implies it)',
      )
      .option("--json", "print a JSON report");
    withCommonOptions(command, false).action(
      async (
        source: string,
        wimfile: string,
        name: string | undefined,
        description: string | undefined,
        options: CaptureOptions,
      ) => {
        await runCapture(mode, source, wimfile, name, description, options, output);
      },
    );
  }
}

async function runCapture(
  mode: "capture" | "append",
  source: string,
  wimfile: string,
  name: string | undefined,
  description: string | undefined,
  options: CaptureOptions,
  output: Output,
): Promise<void> {
  const compression = options.compress ? parseCompression(options.compress) : undefined;
  const toStdout = wimfile === STDIO_WIMFILE;
  if (toStdout && mode === "append") {
    throw new UsageError("append needs a WIM file; standard output cannot be appended to");
  }
  if (toStdout) {
    checkStdoutWrite({ ...options, solid: options.solid === true || compression?.solid === true });
  }
  const imageName = name ??
    (source.replace(/\/+$/, "").replace(/\.zip$/i, "").split("/").pop() || "image");
  if (mode === "append") await checkAppendTarget(wimfile, imageName);
  const config = options.config
    ? parseCaptureConfig(await Deno.readTextFile(options.config), options.config)
    : undefined;
  const progress = progressReporter(
    mode === "capture" ? "Capturing" : "Appending",
    output,
    options,
  );
  try {
    // Workers load their modules while the tree is scanned.
    using pool: ChunkPool = options.threads === 1
      ? new InlineChunkPool()
      : new WorkerChunkPool(options.threads).start();
    const fromZip = /\.zip$/i.test(source) &&
      (await Deno.stat(source).catch(() => null))?.isFile === true;
    const scan = fromZip
      ? await scanZip(source, { onProgress: progress.onProgress })
      : await scanTree(source, {
        onProgress: progress.onProgress,
        ...(options.unixData ? { unixData: true } : {}),
        ...(options.strict ? { strict: true } : {}),
        ...(options.norpfix ? { rpfix: false } : {}),
        ...(config ? { config } : {}),
      });
    const properties = [
      ...(fromZip ? [] : windowsProperties(source)),
      ...(options.imageProperty ?? []).map(splitProperty),
    ];
    const write: WriteOptions = {
      pool,
      onProgress: progress.onProgress,
      ...(compression ? { compression: compression.type, level: compression.level } : {}),
      ...(options.solid || compression?.solid ? { solid: true } : {}),
      ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      ...(options.check ? { check: true } : {}),
      ...(options.boot ? { boot: true } : {}),
      ...(options.norpfix ? { rpfix: false } : {}),
      ...(options.pipable ? { pipable: true } : {}),
    };
    const image = {
      root: scan.root,
      name: imageName,
      ...(description ? { description } : {}),
      ...(options.flags ? { flags: options.flags } : {}),
      properties,
    };
    const report = toStdout
      ? await writePipableWim(Deno.stdout, [image], write)
      : mode === "capture"
      ? await createWim(wimfile, [image], write)
      : await appendToWim(wimfile, [image], write);
    progress.finish();
    if (options.json) {
      printJson(output, {
        ...report,
        files: scan.files,
        directories: scan.directories,
        bytes: scan.bytes,
      });
    } else if (!(toStdout && options.quiet)) {
      // With the WIM on stdout, the summary goes to stderr.
      (toStdout ? output.err : output.out)(
        `${mode === "capture" ? "Captured" : "Appended"} "${imageName}" as image ${
          report.addedImages[0]
        } of "${wimfile}": ${scan.files} files, ${scan.directories} directories, ${scan.bytes} bytes; ${report.newBlobs} new blobs, ${report.reusedBlobs} reused; ${report.sizeBytes} bytes now`,
      );
    }
  } finally {
    progress.finish();
  }
}

/** Refuses an append whose image name is already taken (before anything is written). */
async function checkAppendTarget(wimfile: string, name: string): Promise<void> {
  await using wim = await Wim.open(wimfile);
  if (wim.images().some((image) => image.name === name)) {
    throw new UsageError(`"${wimfile}" already has an image named "${name}"; give another NAME`);
  }
}

function splitProperty(text: string): [string, string] {
  const equals = text.indexOf("=");
  if (equals <= 0) throw new UsageError(`--image-property "${text}" is not NAME=VALUE`);
  return [text.slice(0, equals).replace(/\\/g, "/"), text.slice(equals + 1)];
}
