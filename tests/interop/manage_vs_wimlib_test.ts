/**
 * Image management against wimlib-imagex: after each wimkit update, delete, export (every
 * direction of recompression), split + join and optimize, wimlib-imagex verify passes and
 * wimlib-imagex apply gives the expected tree; WIMs that wimlib changes the same ways are read
 * correctly by wimkit.
 */

import assert from "node:assert/strict";
import { applyImage, Wim } from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, run, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

const SAME = { linkTimes: false, rootTime: false } as const;

async function cli(...args: string[]): Promise<string> {
  const result = await wimkitCli([...args, "--quiet"]);
  assert.equal(result.code, 0, `wimkit ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Applies `image` of `wim` with wimlib and compares with `expected`. */
async function assertWimlibApplies(
  wim: string,
  image: string,
  expected: string,
  work: string,
  refs: string[] = [],
) {
  const out = `${work}/check-${crypto.randomUUID()}`;
  await wimlib("apply", wim, image, out, ...refs);
  assert.deepEqual(await compareTrees(out, expected, SAME), []);
}

async function setup(
  work: string,
  compress = "lzx",
): Promise<{ src1: string; src2: string; wim: string }> {
  const src1 = `${work}/src1`;
  const src2 = `${work}/src2`;
  await Deno.mkdir(src1);
  await Deno.mkdir(src2);
  await makeTree(src1, { seed: 11 });
  await makeTree(src2, { seed: 12 });
  const wim = `${work}/base.wim`;
  await cli("capture", src1, wim, "one", `--compress=${compress}`, "--check");
  await cli("append", src2, wim, "two");
  return { src1, src2, wim };
}

Deno.test({
  name: "update adds, deletes and renames in place; wimlib verifies and applies the result",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { src2, wim } = await setup(work.path);
    const sizeBefore = (await Deno.stat(wim)).size;
    // The expected tree: image 1 as wimlib applies it now, then the same edits by hand.
    const expected = `${work.path}/expected`;
    await wimlib("apply", wim, "1", expected);
    await Deno.writeTextFile(`${work.path}/unattend.xml`, "<unattend/>\n");
    await Deno.mkdir(`${work.path}/drivers/net`, { recursive: true });
    await Deno.writeTextFile(`${work.path}/drivers/net/e1000.inf`, "[Version]\n");
    const commands = [
      `add ${work.path}/unattend.xml /Windows/Panther/unattend.xml`,
      `add ${work.path}/drivers /dir2/drivers`,
      "delete --recursive /dir1/sub",
      "rename /hello.txt /renamed.txt",
    ];
    await cli("update", wim, "1", ...commands.flatMap((c) => ["--command", c]));
    assert.ok(
      (await Deno.stat(wim)).size - sizeBefore < 64 * 1024,
      "only new data and metadata were written",
    );
    await wimlib("verify", wim);
    await Deno.mkdir(`${expected}/Windows/Panther`, { recursive: true });
    await run("cp", ["-a", `${work.path}/unattend.xml`, `${expected}/Windows/Panther/`]);
    await run("cp", ["-a", `${work.path}/drivers`, `${expected}/dir2/`]);
    await Deno.remove(`${expected}/dir1/sub`, { recursive: true });
    await Deno.rename(`${expected}/hello.txt`, `${expected}/renamed.txt`);
    const out = `${work.path}/applied`;
    await wimlib("apply", wim, "1", out);
    const problems = (await compareTrees(out, expected, SAME)).filter((p) =>
      !/^\/(Windows|Windows\/Panther|dir1|dir2): mtime/.test(p)
    );
    assert.deepEqual(problems, []);
    await assertWimlibApplies(wim, "2", src2, work.path);
    assert.match(await wimlib("info", wim), /Integrity info/);
  },
});

Deno.test({
  name: "delete rebuilds without the image and keeps the others intact",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { src2, wim } = await setup(work.path);
    await cli("delete", wim, "1");
    await wimlib("verify", wim);
    const info = await wimlib("info", wim);
    assert.match(info, /Image Count:\s+1/);
    assert.match(info, /Name:\s+two/);
    await assertWimlibApplies(wim, "1", src2, work.path);
  },
});

for (
  const [from, to, extra] of [
    ["lzx", "xpress", []],
    ["xpress", "lzx", []],
    ["none", "lzms", []],
    ["lzx", "lzms", ["--solid"]],
    ["lzms", "lzx", []],
  ] as const
) {
  Deno.test({
    name: `export ${from} -> ${to}${
      extra.length ? " solid" : ""
    }: wimlib verifies and applies the result`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      const src = `${work.path}/src`;
      await Deno.mkdir(src);
      await makeTree(src, { seed: 13 });
      const source = `${work.path}/source.wim`;
      // A solid source (an .esd) is made by wimlib, the way Windows ships install.esd.
      await wimlib(
        "capture",
        src,
        source,
        "esd",
        ...(from === "lzms" ? ["--solid"] : [`--compress=${from}`]),
      );
      const dest = `${work.path}/dest.wim`;
      await cli("export", source, "1", dest, "exported", `--compress=${to}`, ...extra);
      await wimlib("verify", dest);
      await run("7zz", ["t", dest]);
      await assertWimlibApplies(dest, "1", src, work.path);
      assert.match(await wimlib("info", dest), /Name:\s+exported/);
    },
  });
}

Deno.test({
  name: "export without recompression copies resources as they are",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wim } = await setup(work.path);
    const report = JSON.parse(await cli("export", wim, "2", `${work.path}/copy.wim`, "--json"));
    assert.ok(report.copiedBlobs > 10);
    assert.ok(
      report.newBlobs <= 8,
      `only reparse data is compressed again, not ${report.newBlobs} blobs`,
    );
    await wimlib("verify", `${work.path}/copy.wim`);
  },
});

Deno.test({
  name: "split + join round-trips, and every command reads the split set with --ref",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { src1, wim } = await setup(work.path, "xpress");
    const swm = `${work.path}/set.swm`;
    const split = JSON.parse(await cli("split", wim, swm, "0.25", "--json"));
    assert.ok(split.parts.length >= 2);
    for (const part of split.parts) {
      assert.ok((await Deno.stat(part)).size < 0.25 * 1048576 + 120000);
    }
    await wimlib("verify", swm, `--ref=${work.path}/set*.swm`);
    await assertWimlibApplies(swm, "1", src1, work.path, [`--ref=${work.path}/set*.swm`]);
    const ours = `${work.path}/ours`;
    await cli("apply", swm, "1", ours, `--ref=${work.path}/set*.swm`);
    assert.deepEqual(await compareTrees(ours, src1, SAME), []);
    await cli("verify", swm, `--ref=${work.path}/set*.swm`);
    const joined = `${work.path}/joined.wim`;
    await cli("join", joined, ...split.parts);
    await wimlib("verify", joined);
    await assertWimlibApplies(joined, "1", src1, work.path);
  },
});

Deno.test({
  name: "optimize drops data no image uses any more",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { src2, wim } = await setup(work.path);
    await cli(
      "update",
      wim,
      "1",
      "--command",
      "delete --recursive /dir2",
      "--command",
      "delete --recursive /dir1",
    );
    const before = (await Deno.stat(wim)).size;
    await cli("optimize", wim);
    assert.ok((await Deno.stat(wim)).size < before);
    await wimlib("verify", wim);
    await assertWimlibApplies(wim, "2", src2, work.path);
  },
});

Deno.test({
  name:
    "WIMs changed by wimlib-imagex (update, delete, export, split, optimize) are read correctly",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wim } = await setup(work.path);
    await Deno.writeTextFile(`${work.path}/added.txt`, "added by wimlib\n");
    await run("sh", [
      "-c",
      `echo "add ${work.path}/added.txt /added.txt" | wimlib-imagex update ${wim} 1`,
    ]);
    await wimlib("export", wim, "2", `${work.path}/exported.wim`, "--compress=xpress");
    await wimlib("delete", wim, "2");
    await wimlib("optimize", wim);
    await wimlib("split", `${work.path}/exported.wim`, `${work.path}/w.swm`, "0.2");
    const parts = (await Array.fromAsync(Deno.readDir(work.path))).map((e) =>
      `${work.path}/${e.name}`
    )
      .filter((p) => /\/w\d*\.swm$/.test(p));
    assert.ok(parts.length >= 2);
    for (const file of [wim, `${work.path}/exported.wim`, `${work.path}/w.swm`]) {
      await using opened = await Wim.open(file, { refs: file.endsWith(".swm") ? parts : [] });
      const ours = `${work.path}/ours-${crypto.randomUUID()}`;
      await applyImage(opened, 1, ours);
      const theirs = `${work.path}/theirs-${crypto.randomUUID()}`;
      await wimlib(
        "apply",
        file,
        "1",
        theirs,
        ...(file.endsWith(".swm") ? [`--ref=${work.path}/w*.swm`] : []),
      );
      assert.deepEqual(await compareTrees(ours, theirs), []);
    }
  },
});
