/**
 * A 3-image WIM made by wimlib-imagex whose images share most files, for the blob cache tests,
 * and helpers to find which blobs an image uses.
 */

import { dentryStreams, walkTree, Wim } from "@wimkit/wimkit";
import { makeBytes, makeTree } from "../support/trees.ts";
import { run, wimlib } from "../support/wimlib.ts";

/** Files of 96 KiB each that every image has (until an image replaces some). */
export const SHARED_FILES = 16;
const SHARED_FILE_BYTES = 96 << 10;

/**
 * Builds `work/three.wim`: image 1 is a varied tree plus {@linkcode SHARED_FILES} large files;
 * image 2 replaces 4 of them and adds one file; image 3 replaces 4 others and adds another.
 *
 * @returns the WIM's path.
 */
export async function makeThreeImageWim(work: string): Promise<string> {
  const src1 = `${work}/src1`;
  await Deno.mkdir(`${src1}/big`, { recursive: true });
  await makeTree(src1, { seed: 11 });
  for (let i = 0; i < SHARED_FILES; i++) {
    await Deno.writeFile(`${src1}/big/${i}.bin`, makeBytes("random", SHARED_FILE_BYTES, 500 + i));
  }
  for (const [image, first] of [[2, 0], [3, 4]] as const) {
    const src = `${work}/src${image}`;
    await run("cp", ["-a", src1, src]);
    for (let i = first; i < first + 4; i++) {
      await Deno.writeFile(
        `${src}/big/${i}.bin`,
        makeBytes("random", SHARED_FILE_BYTES, 1000 * image + i),
      );
    }
    await Deno.writeFile(`${src}/added_${image}.bin`, makeBytes("x86", 150_000, 77 * image));
  }
  const wim = `${work}/three.wim`;
  await wimlib("capture", src1, wim, "one", "--compress=lzx");
  await wimlib("append", `${work}/src2`, wim, "two");
  await wimlib("append", `${work}/src3`, wim, "three");
  return wim;
}

/** SHA-1s (hex) of the non-empty blobs image `index` uses: data, named streams, reparse data. */
export async function imageBlobHashes(wim: Wim, index: number): Promise<Set<string>> {
  const image = await wim.readImage(index);
  const hashes = new Set<string>();
  for (const { node } of walkTree(image.metadata.root)) {
    const streams = dentryStreams(node);
    for (const hash of [streams.data, streams.reparse, ...streams.named.map((s) => s.hash)]) {
      if (!hash) continue;
      const blob = wim.blob(hash);
      if (blob && blob.size > 0) hashes.add(blob.hashHex);
    }
  }
  return hashes;
}
