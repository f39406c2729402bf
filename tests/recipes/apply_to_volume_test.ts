import assert from "node:assert/strict";
import { applyToVolume, createWim, scanTree, WimkitError } from "@wimkit/wimkit";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { tempDir, wimkitCli } from "../support/wimlib.ts";

async function sampleWim(work: string): Promise<{ src: string; wim: string }> {
  const src = `${work}/src`;
  await Deno.mkdir(src);
  await makeTree(src, { seed: 21 });
  const wim = `${work}/image.wim`;
  await createWim(wim, [{ root: (await scanTree(src)).root, name: "image" }], {
    compression: "xpress",
  });
  return { src, wim };
}

Deno.test("applyToVolume() applies, re-reads every file and reports them all matching", async () => {
  await using work = await tempDir();
  const { src, wim } = await sampleWim(work.path);
  const target = `${work.path}/volume`;
  await Deno.mkdir(target);
  const report = await applyToVolume({ wim, target });
  assert.equal(report.ok, true);
  assert.ok(report.verification.files >= 25);
  assert.ok(report.preflight.freeBytes > report.preflight.requiredBytes);
  assert.equal(report.preflight.existingWindows, false);
  assert.deepEqual(await compareTrees(target, src, { linkTimes: false, rootTime: false }), []);
  JSON.stringify(report);
});

Deno.test("applyToVolume() refuses a missing target, a file, and too little free space, writing nothing", async () => {
  await using work = await tempDir();
  const { wim } = await sampleWim(work.path);
  await assert.rejects(applyToVolume({ wim, target: `${work.path}/missing` }), /does not exist/);
  await Deno.writeTextFile(`${work.path}/file`, "x");
  await assert.rejects(applyToVolume({ wim, target: `${work.path}/file` }), /not a directory/);
  const target = `${work.path}/small`;
  await Deno.mkdir(target);
  // A statfs boundary: exactly the image size free is not enough with the 10% margin.
  const imageBytes = 789000;
  await assert.rejects(
    applyToVolume({ wim, target, freeBytes: () => imageBytes }),
    (error: unknown) =>
      error instanceof WimkitError && error.code === "refused" && /bytes free/.test(error.message),
  );
  assert.deepEqual(await Array.fromAsync(Deno.readDir(target)), []);
});

Deno.test("applyToVolume() warns when the target already holds a Windows tree", async () => {
  await using work = await tempDir();
  const { wim } = await sampleWim(work.path);
  const target = `${work.path}/volume`;
  await Deno.mkdir(`${target}/WINDOWS/System32`, { recursive: true });
  const report = await applyToVolume({ wim, target });
  assert.equal(report.preflight.existingWindows, true);
  assert.match(report.preflight.warnings.join(), /Windows tree/);
});

Deno.test("deno task apply-to-volume prints the report and refuses with exit code 4", async () => {
  await using work = await tempDir();
  const { wim } = await sampleWim(work.path);
  await Deno.mkdir(`${work.path}/volume`);
  const ok = await wimkitCli(["apply-to-volume", wim, `${work.path}/volume`, "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).ok, true);
  const refused = await wimkitCli(["apply-to-volume", wim, `${work.path}/nope`]);
  assert.equal(refused.code, 4);
});
