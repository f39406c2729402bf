/**
 * `info WIMFILE [IMAGE] [--json] [--xml] [--header] [--blobs]`: what a WIM holds. WIMFILE `-`
 * reads a pipable WIM from standard input to its end and shows its final header and XML.
 */

import type { Command } from "commander";
import { type Wim, WimkitError } from "../../mod.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, openWim, withCommonOptions } from "./common.ts";
import { infoJson, type InfoSubject, printText } from "./info_report.ts";
import { readInfoFromStdin, STDIO_WIMFILE } from "./pipe_io.ts";

interface InfoOptions extends CommonOptions {
  json?: boolean;
  xml?: boolean;
  header?: boolean;
  blobs?: boolean;
}

const STDIN_HELP = `
WIMFILE "-" reads a pipable WIM (capture --pipable) from standard input, e.g.
  wimlib-imagex capture DIR - --pipable | wimkit info -
The stream is read to its end without decoding or keeping file data (memory stays
small), so the final header and XML give the same facts as info on the file;
--blobs and --ref need a file.`;

/** Registers `info`. */
export function registerInfo(program: Command, output: Output): void {
  withCommonOptions(
    program.command("info")
      .description("show the images, compression and layout of a WIM")
      .argument("<wimfile>", 'the WIM (or first part of a split set); "-" for standard input')
      .argument("[image]", "only this image (1-based index or name)")
      .option("--json", "print JSON for scripts")
      .option("--xml", "print the WIM's XML data")
      .option("--header", "print the header fields")
      .option("--blobs", "print the blob table")
      .addHelpText("after", STDIN_HELP),
  ).action(async (file: string, image: string | undefined, options: InfoOptions) => {
    if (file === STDIO_WIMFILE) {
      const info = await readInfoFromStdin(options);
      const subject = { ...info, path: file };
      const selected = image === undefined ? undefined : resolveListed(subject, image);
      return printInfo(subject, selected, output, options);
    }
    await using wim = await openWim(file, options);
    const selected = image === undefined ? undefined : wim.resolveImage(image);
    printInfo(subjectOf(wim), selected, output, options);
  });
}

function subjectOf(wim: Wim): InfoSubject {
  return {
    path: wim.path,
    header: wim.header,
    compression: wim.compression,
    chunkSize: wim.chunkSize,
    imageCount: wim.imageCount,
    bootIndex: wim.bootIndex,
    images: wim.images(),
    xmlText: wim.xml.toString(),
    wim,
  };
}

/** Finds an image by 1-based index or name in a subject without a {@linkcode Wim}. */
function resolveListed(subject: InfoSubject, spec: string): number {
  const text = spec.trim();
  const found = /^[0-9]+$/.test(text)
    ? subject.images.find((i) => i.index === Number(text))
    : subject.images.find((i) => i.name === text);
  if (found) return found.index;
  const count = subject.imageCount;
  throw new WimkitError(
    `standard input has no image ${
      /^[0-9]+$/.test(text) ? text : `named "${text}"`
    } (it has ${count} image${count === 1 ? "" : "s"})`,
    "not-found",
  );
}

function printInfo(
  subject: InfoSubject,
  selected: number | undefined,
  output: Output,
  options: InfoOptions,
): void {
  const images = subject.images.filter((i) => selected === undefined || i.index === selected);
  if (options.xml) {
    output.out(subject.xmlText);
  } else if (options.json) {
    printJson(output, infoJson(subject, images, options));
  } else {
    printText(subject, images, output, options);
  }
}
