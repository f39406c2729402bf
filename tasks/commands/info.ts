/** `info WIMFILE [IMAGE] [--json] [--xml] [--header] [--blobs]`: what a WIM holds. */

import type { Command } from "commander";
import { filetimeToUnix, type ImageXmlInfo, type Wim } from "../../mod.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, openWim, withCommonOptions } from "./common.ts";

interface InfoOptions extends CommonOptions {
  json?: boolean;
  xml?: boolean;
  header?: boolean;
  blobs?: boolean;
}

/** Registers `info`. */
export function registerInfo(program: Command, output: Output): void {
  withCommonOptions(
    program.command("info")
      .description("show the images, compression and layout of a WIM")
      .argument("<wimfile>", "the WIM (or first part of a split set)")
      .argument("[image]", "only this image (1-based index or name)")
      .option("--json", "print JSON for scripts")
      .option("--xml", "print the WIM's XML data")
      .option("--header", "print the header fields")
      .option("--blobs", "print the blob table"),
  ).action(async (file: string, image: string | undefined, options: InfoOptions) => {
    await using wim = await openWim(file, options);
    const selected = image === undefined ? undefined : wim.resolveImage(image);
    const images = wim.images().filter((i) => selected === undefined || i.index === selected);
    if (options.xml) {
      output.out(wim.xml.toString());
      return;
    }
    if (options.json) {
      printJson(output, infoJson(wim, images, options));
      return;
    }
    printText(wim, images, output, options);
  });
}

function compressionName(wim: Wim): string {
  return wim.compression;
}

function isoTime(filetime: bigint): string | null {
  if (filetime === 0n) return null;
  const t = filetimeToUnix(filetime);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanoseconds / 1e6)).toISOString();
}

function infoJson(wim: Wim, images: ImageXmlInfo[], options: InfoOptions) {
  const header = wim.header;
  return {
    path: wim.path,
    guid: [...header.guid].map((b) => b.toString(16).padStart(2, "0")).join(""),
    version: header.version,
    imageCount: wim.imageCount,
    compression: compressionName(wim),
    chunkSize: wim.chunkSize,
    partNumber: header.partNumber,
    totalParts: header.totalParts,
    bootIndex: wim.bootIndex,
    flags: header.flags,
    hasIntegrityTable: header.integrity.sizeInWim > 0,
    images: images.map((i) => ({
      index: i.index,
      name: i.name,
      description: i.description,
      fileCount: i.fileCount,
      dirCount: i.dirCount,
      totalBytes: i.totalBytes,
      hardLinkBytes: i.hardLinkBytes,
      creationTime: isoTime(i.creationTime),
      lastModificationTime: isoTime(i.lastModificationTime),
      flags: i.flags,
      properties: i.properties,
    })),
    ...(options.blobs ? { blobs: blobRows(wim) } : {}),
  };
}

function blobRows(wim: Wim) {
  return wim.blobs().map((b) => ({
    hash: b.hashHex,
    size: b.size,
    refCount: b.refCount,
    ...(b.location.kind === "resource"
      ? {
        offset: b.location.resource.offset,
        storedSize: b.location.resource.sizeInWim,
        flags: b.location.resource.flags,
      }
      : { solidResourceOffset: b.location.solid.fileOffset, offsetInSolid: b.location.offset }),
  }));
}

function utcText(filetime: bigint): string {
  const iso = isoTime(filetime);
  if (!iso) return "";
  const d = new Date(iso);
  return d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, "$1 $3 $2 $5 $4 UTC");
}

function printText(wim: Wim, images: ImageXmlInfo[], output: Output, options: InfoOptions): void {
  const header = wim.header;
  const row = (label: string, value: string | number) =>
    output.out(`${(label + ":").padEnd(16)}${value}`);
  output.out("WIM Information:");
  output.out("----------------");
  row("Path", wim.path);
  row("GUID", "0x" + [...header.guid].map((b) => b.toString(16).padStart(2, "0")).join(""));
  row("Version", header.version);
  row("Image Count", wim.imageCount);
  row("Compression", wim.compression === "none" ? "None" : wim.compression.toUpperCase());
  row("Chunk Size", `${wim.chunkSize} bytes`);
  row("Part Number", `${header.partNumber}/${header.totalParts}`);
  row("Boot Index", wim.bootIndex);
  row("Integrity", header.integrity.sizeInWim > 0 ? "yes" : "no");
  if (options.header) {
    row("Flags", "0x" + header.flags.toString(16));
    for (
      const [name, r] of Object.entries({
        "Blob Table": header.blobTable,
        "XML Data": header.xml,
        "Boot Metadata": header.bootMetadata,
        "Integrity Table": header.integrity,
      })
    ) {
      row(
        name,
        `offset ${r.offset}, ${r.sizeInWim} bytes stored, ${r.originalSize} bytes, flags 0x${
          r.flags.toString(16)
        }`,
      );
    }
  }
  output.out("");
  output.out("Available Images:");
  output.out("-----------------");
  for (const image of images) {
    const line = (label: string, value: string | number) =>
      output.out(`${(label + ":").padEnd(24)}${value}`);
    line("Index", image.index);
    line("Name", image.name);
    line("Description", image.description);
    line("Directory Count", image.dirCount);
    line("File Count", image.fileCount);
    line("Total Bytes", image.totalBytes);
    line("Hard Link Bytes", image.hardLinkBytes);
    line("Creation Time", utcText(image.creationTime));
    line("Last Modification Time", utcText(image.lastModificationTime));
    for (const [key, value] of Object.entries(image.properties)) {
      if (
        /^(NAME|DESCRIPTION|DIRCOUNT|FILECOUNT|TOTALBYTES|HARDLINKBYTES|CREATIONTIME|LASTMODIFICATIONTIME)\b/
          .test(key)
      ) continue;
      line(key, value);
    }
    output.out("");
  }
  if (options.blobs) {
    output.out("Blobs:");
    output.out("------");
    for (const blob of blobRows(wim)) {
      output.out(
        `${blob.hash} ${blob.size} bytes, ${blob.refCount} references${
          "offset" in blob
            ? `, at ${blob.offset} (${blob.storedSize} bytes stored)`
            : `, in solid resource at ${blob.solidResourceOffset} + ${blob.offsetInSolid}`
        }`,
      );
    }
  }
}
