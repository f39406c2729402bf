/**
 * `deno task demo`: the main job in a few seconds: capture the sample tree shipped in
 * examples/sample-tree into a WIM, show what it holds, verify it, apply it to a temporary
 * directory and check the result against the source; then apply the sample WIM made by
 * wimlib-imagex (examples/sample.wim) too.
 */

import { createHash } from "node:crypto";
import {
  applyImage,
  createWim,
  scanTree,
  verifyWim,
  walkTree,
  Wim,
  WorkerChunkPool,
} from "../mod.ts";
import { processOutput } from "./ui/output.ts";

const SAMPLE_TREE = new URL("../examples/sample-tree", import.meta.url).pathname;
const SAMPLE_WIM = new URL("../examples/sample.wim", import.meta.url).pathname;

/** Runs the demo, writing to `out`; throws if a round trip does not match. */
export async function demo(out: (line: string) => void = processOutput.out): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "wimkit-demo-" });
  try {
    const wimPath = `${work}/sample.wim`;
    out(`1. capture ${SAMPLE_TREE} -> ${wimPath} (LZX)`);
    const scan = await scanTree(SAMPLE_TREE);
    {
      using pool = new WorkerChunkPool();
      const report = await createWim(wimPath, [{
        root: scan.root,
        name: "Sample",
        description: "wimkit demo",
      }], {
        compression: "lzx",
        pool,
        check: true,
      });
      out(
        `   ${scan.files} files, ${scan.directories} directories, ${scan.bytes} bytes -> ${report.sizeBytes} bytes`,
      );
    }
    for (const [label, path] of [["captured", wimPath], ["wimlib-made", SAMPLE_WIM]] as const) {
      await using wim = await Wim.open(path);
      out(
        `2. info of the ${label} WIM: ${wim.imageCount} image(s), ${wim.compression.toUpperCase()}, ${wim.chunkSize}-byte chunks`,
      );
      for (const image of wim.images()) {
        out(
          `   image ${image.index} "${image.name}": ${image.fileCount} files, ${image.dirCount} directories, ${image.totalBytes} bytes`,
        );
      }
      const verified = await verifyWim(wim);
      out(
        `3. verify: ${verified.blobs} blobs, ${verified.bytes} bytes, every SHA-1 matches${
          verified.integrityTable ? ", integrity table matches" : ""
        }`,
      );
      const target = `${work}/applied-${label}`;
      const report = await applyImage(wim, 1, target);
      out(
        `4. apply to ${target}: ${report.files} files, ${report.symlinks} symlinks, ${report.bytes} bytes`,
      );
      if (path === wimPath) {
        const mismatches = await compareWithSource(wim, target);
        if (mismatches > 0) throw new Error(`${mismatches} applied files differ from the source`);
        out("5. every applied file matches the source");
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

async function compareWithSource(wim: Wim, target: string): Promise<number> {
  const { metadata } = await wim.readImage(1);
  let mismatches = 0;
  for (const { path } of walkTree(metadata.root)) {
    const info = await Deno.lstat(`${target}/${path}`);
    if (!info.isFile) continue;
    const digest = async (file: string) =>
      createHash("sha1").update(await Deno.readFile(file)).digest("hex");
    if (await digest(`${target}/${path}`) !== await digest(`${SAMPLE_TREE}/${path}`)) mismatches++;
  }
  return mismatches;
}

if (import.meta.main) await demo();
