/** `dir WIMFILE [IMAGE] [--path=PATH] [--detailed]`: list an image's paths, one per line. */

import type { Command } from "commander";
import {
  dentryStreams,
  FileAttribute,
  filetimeToUnix,
  findDentry,
  readUnixData,
  walkTree,
  WimkitError,
} from "../../mod.ts";
import type { Output } from "../ui/output.ts";
import { type CommonOptions, openWim, selectImage, withCommonOptions } from "./common.ts";

interface DirOptions extends CommonOptions {
  path?: string;
  detailed?: boolean;
}

/** Registers `dir`. */
export function registerDir(program: Command, output: Output): void {
  withCommonOptions(
    program.command("dir")
      .description("list the paths of an image, one per line")
      .argument("<wimfile>", "the WIM")
      .argument("[image]", "1-based index or name (optional when the WIM holds one image)")
      .option("--path <path>", "list only this path and what is below it", "/")
      .option("--detailed", "print attributes, times, sizes and hashes too"),
  ).action(async (file: string, image: string | undefined, options: DirOptions) => {
    await using wim = await openWim(file, options);
    const index = selectImage(wim, image);
    const { metadata } = await wim.readImage(index);
    const start = findDentry(metadata.root, options.path ?? "/");
    if (!start) {
      throw new WimkitError(
        `image ${index} of "${file}" has no path "${options.path}"`,
        "not-found",
        {
          file,
          image: index,
        },
      );
    }
    const prefix = (options.path ?? "/").split("/").filter((p) => p !== "").join("/");
    for (const { node, path } of walkTree(start)) {
      const full = "/" + [prefix, path].filter((p) => p !== "").join("/");
      if (!options.detailed) {
        output.out(full);
        continue;
      }
      const streams = dentryStreams(node);
      const unix = readUnixData(node.taggedItems);
      const data = streams.data ? wim.blob(streams.data) : undefined;
      output.out(`Full Path           = "${full}"`);
      output.out(
        `Attributes          = 0x${node.attributes.toString(16).padStart(8, "0")}${
          describeAttributes(node.attributes)
        }`,
      );
      output.out(`Last Write Time     = ${timeText(node.lastWriteTime)}`);
      output.out(`Last Access Time    = ${timeText(node.lastAccessTime)}`);
      output.out(`Creation Time       = ${timeText(node.creationTime)}`);
      output.out(`Link Group ID       = 0x${node.hardLinkGroup.toString(16).padStart(16, "0")}`);
      if (unix) {
        output.out(
          `UNIX Data           = uid:${unix.uid} gid:${unix.gid} mode:0${
            unix.mode.toString(8)
          } rdev:0x${unix.rdev.toString(16)}`,
        );
      }
      if (streams.data) {
        output.out(
          `Data                = ${data?.size ?? "?"} bytes, SHA-1 ${data?.hashHex ?? "(missing)"}`,
        );
      }
      if (streams.reparse) output.out(`Reparse Tag         = 0x${node.reparseTag.toString(16)}`);
      for (const stream of streams.named) output.out(`Named Stream        = "${stream.name}"`);
      output.out("");
    }
  });
}

function describeAttributes(attributes: number): string {
  const names = Object.entries(FileAttribute).filter(([, bit]) => attributes & bit).map(([name]) =>
    name
  );
  return names.length ? ` (${names.join(", ")})` : "";
}

function timeText(filetime: bigint): string {
  const t = filetimeToUnix(filetime);
  const iso = new Date(Number(t.seconds) * 1000).toISOString().replace(/\.\d+Z$/, "");
  return `${iso}.${String(t.nanoseconds).padStart(9, "0").slice(0, 7)} UTC`;
}
