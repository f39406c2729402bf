/** `info --json` and `dir` agree with `wimlib-imagex info` and `dir` on wimlib-made WIMs. */

import assert from "node:assert/strict";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

/** Parses `wimlib-imagex info` text into per-image field maps plus the header fields. */
function parseWimlibInfo(
  text: string,
): { header: Record<string, string>; images: Record<string, string>[] } {
  const header: Record<string, string> = {};
  const images: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z ]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    if (key === "Index") {
      current = {};
      images.push(current);
    }
    (current ?? header)[key.trim()] = value.trim();
  }
  return { header, images };
}

Deno.test({
  name: "info --json agrees with wimlib-imagex info; dir agrees with wimlib-imagex dir",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await makeTree(src);
    const wim = `${work.path}/t.wim`;
    await wimlib("capture", src, wim, "First image", "described", "--compress=lzx");
    await wimlib("append", `${src}/dir1`, wim, "Second", "--boot");
    const ours = await wimkitCli(["info", wim, "--json"]);
    assert.equal(ours.code, 0, ours.stderr);
    const info = JSON.parse(ours.stdout);
    const theirs = parseWimlibInfo(await wimlib("info", wim));
    assert.equal(info.imageCount, Number(theirs.header["Image Count"]));
    assert.equal(info.compression, theirs.header["Compression"]!.toLowerCase());
    assert.equal(info.chunkSize, Number(theirs.header["Chunk Size"]!.split(" ")[0]));
    assert.equal(info.bootIndex, Number(theirs.header["Boot Index"]));
    for (const [i, image] of theirs.images.entries()) {
      const mine = info.images[i];
      assert.equal(mine.index, Number(image["Index"]));
      assert.equal(mine.name, image["Name"]);
      assert.equal(mine.description, image["Description"]);
      assert.equal(mine.dirCount, Number(image["Directory Count"]));
      assert.equal(mine.fileCount, Number(image["File Count"]));
      assert.equal(mine.totalBytes, Number(image["Total Bytes"]));
    }
    for (const image of ["1", "2"]) {
      const dir = await wimkitCli(["dir", wim, image]);
      assert.equal(dir.code, 0, dir.stderr);
      assert.equal(dir.stdout, await wimlib("dir", wim, image));
    }
    const sub = await wimkitCli(["dir", wim, "1", "--path=/dir1/sub"]);
    assert.equal(sub.stdout, await wimlib("dir", wim, "1", "--path=/dir1/sub"));
  },
});
