/**
 * wimlib → wimkit: trees captured by wimlib-imagex with every compression type, several images
 * and as a split set, applied by wimkit and by wimlib-imagex, must come out identical.
 */

import assert from "node:assert/strict";
import { applyImage, InlineChunkPool, Wim, WorkerChunkPool } from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

const CASES: { name: string; args: string[] }[] = [
  { name: "none", args: ["--compress=none"] },
  { name: "xpress", args: ["--compress=xpress"] },
  { name: "lzx", args: ["--compress=lzx"] },
  { name: "lzms", args: ["--compress=lzms"] },
  { name: "lzms solid", args: ["--solid"] },
  { name: "lzx with unix data", args: ["--compress=lzx", "--unix-data"] },
];

for (const { name, args } of CASES) {
  Deno.test({
    name: `applyImage() matches wimlib-imagex apply for ${name} WIMs with two images`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      const src1 = `${work.path}/src1`;
      const src2 = `${work.path}/src2`;
      await Deno.mkdir(src1);
      await Deno.mkdir(src2);
      await makeTree(src1, { seed: 1 });
      await makeTree(src2, { seed: 2 });
      const wimPath = `${work.path}/test.wim`;
      await wimlib("capture", src1, wimPath, "one", ...args);
      await wimlib("append", src2, wimPath, "two", ...args.filter((a) => a !== "--unix-data"));
      await using wim = await Wim.open(wimPath);
      using pool = name === "lzx" ? new WorkerChunkPool(2) : new InlineChunkPool();
      for (const index of [1, 2]) {
        const ours = `${work.path}/ours${index}`;
        const theirs = `${work.path}/theirs${index}`;
        await applyImage(wim, index, ours, { pool });
        await wimlib("apply", wimPath, String(index), theirs);
        assert.deepEqual(await compareTrees(ours, theirs), []);
      }
      // Against the source too (times, links and hard links survive the round trip).
      assert.deepEqual(await compareTrees(`${work.path}/ours1`, src1, { linkTimes: false }), []);
    },
  });
}

Deno.test({
  name: "applyImage() reads a split set made by wimlib-imagex split",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await makeTree(src, { seed: 3 });
    await wimlib("capture", src, `${work.path}/full.wim`, "--compress=lzx");
    await wimlib("split", `${work.path}/full.wim`, `${work.path}/part.swm`, "0.1");
    const parts: string[] = [];
    for await (const entry of Deno.readDir(work.path)) {
      if (entry.name.endsWith(".swm")) parts.push(`${work.path}/${entry.name}`);
    }
    assert.ok(parts.length >= 2, `expected several parts, got ${parts.length}`);
    await using wim = await Wim.open(`${work.path}/part.swm`, { refs: parts });
    await applyImage(wim, 1, `${work.path}/ours`);
    await wimlib("apply", `${work.path}/full.wim`, `${work.path}/theirs`);
    assert.deepEqual(await compareTrees(`${work.path}/ours`, `${work.path}/theirs`), []);
  },
});

Deno.test({
  name: "applyImage() replaces what the image has and leaves other target files alone",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await makeTree(src, { seed: 4 });
    await wimlib("capture", src, `${work.path}/t.wim`, "--compress=xpress");
    const target = `${work.path}/target`;
    await Deno.mkdir(`${target}/dir1`, { recursive: true });
    await Deno.writeTextFile(`${target}/keep_me.txt`, "mine");
    await Deno.writeTextFile(`${target}/hello.txt`, "old content");
    // An existing symlink where the image has a file must not be written through.
    const outside = `${work.path}/outside.txt`;
    await Deno.writeTextFile(outside, "outside");
    await Deno.symlink(outside, `${target}/empty.txt`);
    await using wim = await Wim.open(`${work.path}/t.wim`);
    await applyImage(wim, 1, target);
    assert.equal(await Deno.readTextFile(`${target}/keep_me.txt`), "mine");
    assert.equal(await Deno.readTextFile(`${target}/hello.txt`), "hello\n");
    assert.equal(await Deno.readTextFile(outside), "outside");
    assert.equal((await Deno.lstat(`${target}/empty.txt`)).isFile, true);
  },
});
