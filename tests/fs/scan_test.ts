import assert from "node:assert/strict";
import {
  dentryStreams,
  type NewNode,
  parseCaptureConfig,
  scanTree,
  walkTree,
  Wim,
  WimkitError,
} from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, run, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

/** Per path: attributes, reparse flags and reparse data of every link in image 1. */
async function links(path: string): Promise<Record<string, string>> {
  await using wim = await Wim.open(path);
  const { metadata } = await wim.readImage(1);
  const out: Record<string, string> = {};
  for (const { node, path: p } of walkTree(metadata.root)) {
    const reparse = dentryStreams(node).reparse;
    if (!reparse) continue;
    const data = await wim.readBlob(wim.blob(reparse)!);
    out[p] = `${node.attributes.toString(16)} ${node.reparseFlags} ${[...data].join(",")}`;
  }
  return out;
}

Deno.test({
  name: "scanTree() stores symbolic links exactly as wimlib-imagex does (targets, fix-ups, flags)",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    await makeTree(`${work.path}/src`);
    await Deno.symlink(
      `${await Deno.realPath(`${work.path}/src`)}`,
      `${work.path}/src/dir1/root_link`,
    );
    await Deno.symlink("dir1/../hello.txt", `${work.path}/src/dotdot_link`);
    await wimlib("capture", `${work.path}/src`, `${work.path}/theirs.wim`);
    assert.equal(
      (await wimkitCli(["capture", `${work.path}/src`, `${work.path}/ours.wim`, "--quiet"])).code,
      0,
    );
    const ours = await links(`${work.path}/ours.wim`);
    assert.ok(Object.keys(ours).length >= 8);
    assert.deepEqual(ours, await links(`${work.path}/theirs.wim`));
  },
});

Deno.test("scanTree() applies [ExclusionList], [ExclusionException] and [CompressionExclusionList]", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(`${src}/Temp/keep`, { recursive: true });
  await Deno.mkdir(`${src}/dir`);
  for (
    const name of ["a.txt", "b.tmp", "dir/c.TMP", "Temp/x.log", "Temp/keep/y.txt", "dir/song.mp3"]
  ) {
    await Deno.writeTextFile(
      `${src}/${name}`,
      "data data data data data data data data\n".repeat(20),
    );
  }
  const config = parseCaptureConfig(
    "; comment\n[ExclusionList]\n*.tmp\n\\Temp\n\\Temp\\*\n[ExclusionException]\n\\Temp\\keep\n[CompressionExclusionList]\n*.mp3\n",
  );
  const scan = await scanTree(src, { config });
  const paths: string[] = [];
  const visit = (node: NewNode, path: string) => {
    paths.push(path);
    for (const child of node.children ?? []) {
      visit(child, path ? `${path}/${child.name}` : child.name);
    }
  };
  visit(scan.root, "");
  paths.sort();
  assert.deepEqual(paths, ["", "a.txt", "dir", "dir/song.mp3"]);
  const mp3 = scan.root.children!.find((c) => c.name === "dir")!.children!.find((c) =>
    c.name === "song.mp3"
  )!;
  assert.equal(mp3.noCompress, true);
});

Deno.test("scanTree() skips special files with a warning, fails on them with strict, keeps them with unixData", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  await Deno.writeTextFile(`${src}/a.txt`, "a");
  await run("mkfifo", [`${src}/pipe`]);
  const warnings: string[] = [];
  const scan = await scanTree(src, {
    onProgress: (e) => e.type === "warning" && warnings.push(e.message),
  });
  assert.deepEqual(scan.root.children!.map((c) => c.name), ["a.txt"]);
  assert.match(warnings.join(), /special files/);
  await assert.rejects(scanTree(src, { strict: true }), WimkitError);
  const unix = await scanTree(src, { unixData: true });
  const pipe = unix.root.children!.find((c) => c.name === "pipe")!;
  assert.equal(pipe.attributes, 0);
  assert.equal(pipe.unix!.mode & 0o170000, 0o010000);
});

Deno.test("scanTree() rejects a source that is not a directory", async () => {
  await using work = await tempDir();
  await Deno.writeTextFile(`${work.path}/file`, "x");
  await assert.rejects(scanTree(`${work.path}/file`), /not a directory/);
  await assert.rejects(scanTree(`${work.path}/missing`), /no such file/);
});
