/**
 * Crash safety: capture and append killed with SIGKILL at random moments. After each kill a
 * capture's target either does not exist or is complete and valid; an appended WIM verifies with
 * every earlier image intact.
 */

import assert from "node:assert/strict";
import { makeBytes } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

const CLI = new URL("../../tasks/cli.ts", import.meta.url).pathname;
const ROUNDS = 10;

/** A tree big enough that LZX capture takes a second or two. */
async function makeBigTree(root: string): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  for (let i = 0; i < 24; i++) {
    await Deno.writeFile(`${root}/file_${i}.bin`, makeBytes(i % 3 ? "x86" : "text", 600_000, i));
  }
}

/** Starts the CLI and kills it after `delayMs`; resolves when it is gone. */
async function runAndKill(args: string[], delayMs: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args, "--quiet"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, delayMs);
  await child.status;
  clearTimeout(timer);
}

Deno.test({
  name: "capture killed at random moments leaves no WIM or a complete one",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await makeBigTree(`${work.path}/src`);
    const wim = `${work.path}/out.wim`;
    let interrupted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await Deno.remove(wim).catch(() => {});
      await runAndKill(
        ["capture", `${work.path}/src`, wim, "--compress=lzx"],
        150 + Math.random() * 2500,
      );
      const exists = await Deno.stat(wim).then(() => true, () => false);
      if (exists) await wimlib("verify", wim);
      else interrupted++;
    }
    assert.ok(interrupted > 0, "no capture was interrupted: the kill window missed the write");
  },
});

Deno.test({
  name: "append killed at random moments leaves the WIM verifying with its earlier images",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await makeBigTree(`${work.path}/src`);
    await Deno.mkdir(`${work.path}/small`);
    await Deno.writeTextFile(`${work.path}/small/a.txt`, "first image\n");
    const wim = `${work.path}/out.wim`;
    await wimlib("capture", `${work.path}/small`, wim, "first", "--compress=lzx");
    for (let round = 0; round < ROUNDS; round++) {
      // New content each round, so every append has data to compress and write.
      await Deno.writeFile(
        `${work.path}/src/round.bin`,
        makeBytes("x86", 24_000_000, 1000 + round),
      );
      await runAndKill(
        ["append", `${work.path}/src`, wim, `round ${round}`],
        150 + Math.random() * 1500,
      );
      await wimlib("verify", wim);
      const info = await wimlib("info", wim);
      assert.match(info, /Name:\s+first/);
      await Deno.remove(`${work.path}/check`, { recursive: true }).catch(() => {});
      await wimlib("apply", wim, "1", `${work.path}/check`);
      assert.equal(await Deno.readTextFile(`${work.path}/check/a.txt`), "first image\n");
    }
    const images = Number(/Image Count:\s+(\d+)/.exec(await wimlib("info", wim))![1]);
    assert.ok(images < ROUNDS + 1, "no append was interrupted: the kill window missed the write");
  },
});

/** A two-image LZX WIM with enough data that rebuilding it takes a while. */
async function bigWim(work: string): Promise<string> {
  await makeBigTree(`${work}/src`);
  const wim = `${work}/big.wim`;
  await wimlib("capture", `${work}/src`, wim, "first", "--compress=lzx");
  await Deno.mkdir(`${work}/small`);
  await Deno.writeTextFile(`${work}/small/b.txt`, "second image\n");
  await wimlib("append", `${work}/small`, wim, "second");
  return wim;
}

for (const command of ["update", "delete", "optimize"] as const) {
  Deno.test({
    name: `${command} killed at random moments leaves the WIM verifying with its earlier content`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      const wim = await bigWim(work.path);
      for (let round = 0; round < 6; round++) {
        const before = await wimlib("info", wim);
        let args: string[];
        if (command === "update") {
          await Deno.writeFile(`${work.path}/new.bin`, makeBytes("x86", 16_000_000, 2000 + round));
          args = ["update", wim, "1", "--command", `add ${work.path}/new.bin /new_${round}.bin`];
        } else if (command === "delete") {
          args = ["delete", wim, "2"];
        } else {
          args = ["optimize", wim, "--recompress"];
        }
        await runAndKill(args, 150 + Math.random() * 1500);
        await wimlib("verify", wim);
        const after = await wimlib("info", wim);
        assert.match(after, /Name:\s+first/);
        if (command === "delete" && !/Name:\s+second/.test(after)) {
          // The delete completed: restore the second image for the next round.
          await wimlib("append", `${work.path}/small`, wim, "second");
        } else if (command !== "update") {
          assert.match(
            after,
            /Name:\s+second/,
            `image 2 lost (before: ${before.length} bytes of info)`,
          );
        }
        await Deno.remove(`${work.path}/check`, { recursive: true }).catch(() => {});
        await wimlib("apply", wim, "1", `${work.path}/check`);
        assert.ok((await Deno.stat(`${work.path}/check/file_0.bin`)).isFile);
      }
    },
  });
}
