/**
 * `deno task demo`: the main job on the sample WIM shipped in examples/: show what it holds,
 * verify it, apply it to a temporary directory and list what came out.
 */

import { applyImage, verifyWim, walkTree, Wim } from "../mod.ts";
import { processOutput } from "./ui/output.ts";

const SAMPLE = new URL("../examples/sample.wim", import.meta.url).pathname;

/** Runs the demo, writing to `out`. */
export async function demo(out: (line: string) => void = processOutput.out): Promise<void> {
  await using wim = await Wim.open(SAMPLE);
  out(`Sample WIM: ${SAMPLE}`);
  out(
    `  ${wim.imageCount} image(s), ${wim.compression.toUpperCase()} compression, ${wim.chunkSize}-byte chunks`,
  );
  for (const image of wim.images()) {
    out(
      `  image ${image.index}: "${image.name}", ${image.fileCount} files, ${image.dirCount} directories, ${image.totalBytes} bytes`,
    );
  }
  const verified = await verifyWim(wim);
  out(`Verified: ${verified.blobs} blobs, ${verified.bytes} bytes, every SHA-1 matches`);
  const target = await Deno.makeTempDir({ prefix: "wimkit-demo-" });
  try {
    const started = performance.now();
    const report = await applyImage(wim, 1, target);
    out(
      `Applied image 1 to ${target} in ${
        (performance.now() - started).toFixed(0)
      } ms: ${report.files} files, ${report.symlinks} symlinks, ${report.bytes} bytes`,
    );
    const { metadata } = await wim.readImage(1);
    for (const { path, depth } of walkTree(metadata.root)) {
      if (path === "") continue;
      const info = await Deno.lstat(`${target}/${path}`);
      const kind = info.isDirectory
        ? "dir "
        : info.isSymlink
        ? `-> ${await Deno.readLink(`${target}/${path}`)}`
        : `${info.size} bytes`;
      out(`  ${"  ".repeat(depth - 1)}${path.split("/").pop()}  ${kind}`);
    }
  } finally {
    await Deno.remove(target, { recursive: true });
  }
}

if (import.meta.main) await demo();
