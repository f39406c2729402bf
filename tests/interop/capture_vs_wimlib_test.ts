/**
 * wimkit → wimlib: trees captured by wimkit pass `wimlib-imagex verify` and `7zz t`, and
 * `wimlib-imagex apply` reproduces the source; appends are seen by wimlib and share blobs.
 */

import assert from "node:assert/strict";
import { appendToWim, createWim, scanTree, Wim, WorkerChunkPool } from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { has7zz, hasWimlib, run, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

const CASES = [
  { name: "none", args: ["--compress=none"] },
  { name: "xpress", args: ["--compress=xpress", "--check"] },
  { name: "lzx", args: ["--compress=lzx"] },
  { name: "lzx:20", args: ["--compress=lzx:20", "--check"] },
  { name: "lzms", args: ["--compress=lzms"] },
  { name: "lzms solid", args: ["--solid", "--check"] },
];

for (const { name, args } of CASES) {
  Deno.test({
    name: `capture ${name}: wimlib-imagex verify and apply reproduce the source, 7zz t passes`,
    ignore: !hasWimlib || !has7zz,
    async fn() {
      await using work = await tempDir();
      const src = `${work.path}/src`;
      await Deno.mkdir(src);
      await makeTree(src, { seed: 7 });
      const wim = `${work.path}/out.wim`;
      const result = await wimkitCli([
        "capture",
        src,
        wim,
        "Image one",
        "first",
        ...args,
        "--quiet",
      ]);
      assert.equal(result.code, 0, result.stderr);
      await wimlib("verify", wim);
      await run("7zz", ["t", wim]);
      await wimlib("apply", wim, `${work.path}/applied`);
      assert.deepEqual(await compareTrees(`${work.path}/applied`, src, { linkTimes: false }), []);
      if (args.includes("--check")) assert.match(await wimlib("info", wim), /Integrity info/);
    },
  });
}

Deno.test({
  name: "capture --unix-data stores modes and owners that wimlib-imagex apply --unix-data restores",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(`${src}/d`, { recursive: true });
    await Deno.writeTextFile(`${src}/d/script.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${src}/d/script.sh`, 0o751);
    await Deno.chmod(`${src}/d`, 0o700);
    const wim = `${work.path}/unix.wim`;
    assert.equal((await wimkitCli(["capture", src, wim, "--unix-data", "--quiet"])).code, 0);
    await wimlib("apply", wim, `${work.path}/out`, "--unix-data");
    assert.equal((await Deno.stat(`${work.path}/out/d/script.sh`)).mode! & 0o7777, 0o751);
    assert.equal((await Deno.stat(`${work.path}/out/d`)).mode! & 0o7777, 0o700);
  },
});

Deno.test({
  name:
    "appended images are seen by wimlib with their names and counts, and add no duplicate blobs",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await makeTree(src, { seed: 8 });
    const wim = `${work.path}/multi.wim`;
    using pool = new WorkerChunkPool(2);
    await createWim(wim, [{ root: (await scanTree(src)).root, name: "one" }], {
      compression: "lzx",
      pool,
    });
    const before = (await Deno.stat(wim)).size;
    await Deno.writeTextFile(`${src}/new_file.txt`, "only in image two\n");
    const report = await appendToWim(wim, [{
      root: (await scanTree(src)).root,
      name: "two",
      description: "d2",
    }], { pool });
    assert.equal(report.newBlobs, 1, "only the new file is stored");
    assert.ok(
      (await Deno.stat(wim)).size - before < 8192,
      "the append adds metadata and one small blob",
    );
    const info = await wimlib("info", wim);
    assert.match(info, /Image Count:\s+2/);
    assert.match(info, /Name:\s+two/);
    assert.match(info, /Description:\s+d2/);
    await wimlib("verify", wim);
    await wimlib("apply", wim, "2", `${work.path}/two`);
    assert.deepEqual(
      await compareTrees(`${work.path}/two`, src, { linkTimes: false, rootTime: false }),
      [],
    );
    await using opened = await Wim.open(wim);
    const hashes = opened.blobs().map((b) => b.hashHex);
    assert.equal(new Set(hashes).size, hashes.length, "no blob is stored twice");
  },
});

Deno.test({
  name: "50 copies of one 1 MiB file make a WIM under 2 MiB",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/copies`;
    await Deno.mkdir(src);
    const data = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < 16; i++) big.set(data.map((b) => b ^ i), i * 65536);
    for (let i = 0; i < 50; i++) await Deno.writeFile(`${src}/copy_${i}.bin`, big);
    const wim = `${work.path}/copies.wim`;
    assert.equal((await wimkitCli(["capture", src, wim, "--quiet"])).code, 0);
    assert.ok((await Deno.stat(wim)).size < 2 << 20);
    await wimlib("verify", wim);
  },
});

Deno.test({
  name: "append refuses another compression type and leaves the WIM byte-identical",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await Deno.writeTextFile(`${src}/a.txt`, "a\n");
    const wim = `${work.path}/x.wim`;
    await wimlib("capture", src, wim, "--compress=xpress");
    const before = await Deno.readFile(wim);
    const result = await wimkitCli(["append", src, wim, "two", "--compress=lzx"]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /XPRESS.*LZX|LZX.*XPRESS/);
    assert.match(result.stderr, /export/);
    assert.deepEqual(await Deno.readFile(wim), before);
  },
});
