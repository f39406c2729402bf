import assert from "node:assert/strict";
import {
  appendWithCompressionCheck,
  CompressionMismatchError,
  createWim,
  scanTree,
  Wim,
} from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

async function setup(work: string) {
  const src = `${work}/src`;
  await Deno.mkdir(src);
  await makeTree(src, { seed: 31 });
  const wim = `${work}/base.wim`;
  await createWim(wim, [{ root: (await scanTree(src)).root, name: "base" }], {
    compression: "xpress",
  });
  return { src, wim };
}

Deno.test("appendWithCompressionCheck() appends when the compression matches", async () => {
  await using work = await tempDir();
  const { src, wim } = await setup(work.path);
  const report = await appendWithCompressionCheck({
    source: src,
    wim,
    compression: "xpress",
    name: "second",
  });
  assert.deepEqual([report.converted, report.image, report.imageCount, report.wim], [
    false,
    2,
    2,
    wim,
  ]);
  if (hasWimlib) await wimlib("verify", wim);
});

Deno.test("appendWithCompressionCheck() refuses another compression, naming both, and leaves the WIM untouched", async () => {
  await using work = await tempDir();
  const { src, wim } = await setup(work.path);
  const before = await Deno.readFile(wim);
  await assert.rejects(
    appendWithCompressionCheck({ source: src, wim, compression: "lzx" }),
    (error: unknown) =>
      error instanceof CompressionMismatchError && /XPRESS/.test(error.message) &&
      /LZX/.test(error.message),
  );
  assert.deepEqual(await Deno.readFile(wim), before);
  const cli = await wimkitCli(["append-with-compression-check", src, wim, "--compress=maximum"]);
  assert.equal(cli.code, 4);
  assert.deepEqual(await Deno.readFile(wim), before);
});

Deno.test("appendWithCompressionCheck() with convert exports to a new WIM and appends there", async () => {
  await using work = await tempDir();
  const { src, wim } = await setup(work.path);
  const before = await Deno.readFile(wim);
  const report = await appendWithCompressionCheck({
    source: src,
    wim,
    compression: "lzx",
    convert: true,
    name: "new",
  });
  assert.equal(report.converted, true);
  assert.equal(report.wim, `${work.path}/base-lzx.wim`);
  assert.deepEqual(await Deno.readFile(wim), before, "the original is untouched");
  await using converted = await Wim.open(report.wim);
  assert.equal(converted.compression, "lzx");
  assert.deepEqual(converted.images().map((i) => i.name), ["base", "new"]);
  if (hasWimlib) await wimlib("verify", report.wim);
});
