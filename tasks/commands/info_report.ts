/** How `info` shows a WIM: the text report (wimlib-imagex's layout) and the `--json` object. */

import {
  type CompressionType,
  filetimeToUnix,
  type ImageXmlInfo,
  type Wim,
  type WimHeader,
} from "../../mod.ts";
import type { Output } from "../ui/output.ts";

/** What `info` prints about: an opened WIM, or a pipable WIM read from standard input. */
export interface InfoSubject {
  path: string;
  header: WimHeader;
  compression: CompressionType;
  chunkSize: number;
  imageCount: number;
  bootIndex: number;
  images: ImageXmlInfo[];
  xmlText: string;
  /** The opened WIM (absent for standard input): its blob table for --blobs. */
  wim?: Wim;
}

/** A FILETIME as an ISO 8601 string, null for 0. */
function isoTime(filetime: bigint): string | null {
  if (filetime === 0n) return null;
  const t = filetimeToUnix(filetime);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanoseconds / 1e6)).toISOString();
}

/** The `--json` object for `images` of `wim`. */
export function infoJson(
  wim: InfoSubject,
  images: ImageXmlInfo[],
  options: { blobs?: boolean | undefined; header?: boolean | undefined },
) {
  const header = wim.header;
  return {
    path: wim.path,
    guid: [...header.guid].map((b) => b.toString(16).padStart(2, "0")).join(""),
    version: header.version,
    imageCount: wim.imageCount,
    compression: wim.compression,
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
    ...(options.blobs && wim.wim ? { blobs: blobRows(wim.wim) } : {}),
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

/** The text report (as wimlib-imagex info prints it) for `images` of `wim`. */
export function printText(
  wim: InfoSubject,
  images: ImageXmlInfo[],
  output: Output,
  options: { blobs?: boolean | undefined; header?: boolean | undefined },
): void {
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
  if (options.blobs && wim.wim) {
    output.out("Blobs:");
    output.out("------");
    for (const blob of blobRows(wim.wim)) {
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
