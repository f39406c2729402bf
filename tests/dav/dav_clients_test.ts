/**
 * Real WebDAV clients against `wimkit serve --rw`: the litmus compliance suite (basic, copymove,
 * props, locks), rclone copying a tree in and out, and cadaver listing and getting a file; the
 * committed WIM is then checked with wimlib-imagex. Each test is ignored when its client is missing.
 */

import assert from "node:assert/strict";
import { compareTrees } from "../support/tree_compare.ts";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";
import { hasCommand, hasRclone } from "../support/tools.ts";
import { applyWithWimlib, startServeCli } from "./dav_support.ts";

const hasLitmus = await hasCommand("litmus", ["--help"]);
const hasCadaver = await hasCommand("cadaver", ["--version"]);

async function smallWim(dir: string): Promise<string> {
  const source = `${dir}/source`;
  await Deno.mkdir(source);
  await Deno.writeTextFile(`${source}/hello.txt`, "hello\n");
  await Deno.mkdir(`${source}/docs`);
  await Deno.writeTextFile(`${source}/docs/readme.txt`, "read me\n".repeat(100));
  const wimPath = `${dir}/served.wim`;
  await wimlib("capture", source, wimPath, "served", "--compress=LZX");
  return wimPath;
}

/** Per-suite pass and fail counts from litmus's summary lines. */
function litmusSummary(output: string): Map<string, { passed: number; failed: number }> {
  const out = new Map<string, { passed: number; failed: number }>();
  for (
    const match of output.matchAll(
      /summary for `(\w+)': of \d+ tests run: (\d+) passed, (\d+) failed/g,
    )
  ) {
    out.set(match[1]!, { passed: Number(match[2]), failed: Number(match[3]) });
  }
  return out;
}

Deno.test({
  name: "litmus basic, copymove, props and locks pass against serve --rw",
  ignore: !hasWimlib || !hasLitmus,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await smallWim(dir.path);
    await using server = await startServeCli([wimPath, "--rw", "--discard"]);
    const result = await new Deno.Command("litmus", {
      args: ["-k", `${server.base}/`],
      env: { TESTS: "basic copymove props locks" },
      cwd: dir.path, // litmus writes debug.log and child.log where it runs
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(result.stdout);
    const summary = litmusSummary(output);
    await Deno.stderr.write(
      new TextEncoder().encode(
        `litmus: ${
          [...summary].map(([suite, c]) => `${suite} ${c.passed}/${c.passed + c.failed}`).join(", ")
        }\n`,
      ),
    );
    for (const suite of ["basic", "copymove", "props", "locks"]) {
      assert.ok(summary.has(suite), `litmus ran ${suite}:\n${output}`);
    }
    assert.equal(summary.get("basic")!.failed, 0, output);
    assert.equal(summary.get("copymove")!.failed, 0, output);
    assert.equal(summary.get("props")!.failed, 0, output);
    assert.equal(summary.get("locks")!.failed, 0, output);
    const { code } = await server.stop();
    assert.equal(code, 0);
    await wimlib("verify", wimPath);
  },
});

Deno.test({
  name: "rclone copies a tree into the served image and back out; the commit holds exactly it",
  ignore: !hasWimlib || !hasRclone,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await smallWim(dir.path);
    const tree = `${dir.path}/tree`;
    await Deno.mkdir(tree);
    await makeTree(tree, { noSymlinks: true });
    const server = await startServeCli([wimPath, "--rw", "--commit-on-exit"]);
    const env = {
      RCLONE_CONFIG_SERVED_TYPE: "webdav",
      RCLONE_CONFIG_SERVED_URL: `${server.base}/`,
      RCLONE_CONFIG_SERVED_VENDOR: "other",
      RCLONE_CONFIG: "/dev/null",
    };
    const rclone = async (...args: string[]) => {
      const result = await new Deno.Command("rclone", {
        args,
        env,
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      assert.ok(result.success, new TextDecoder().decode(result.stderr));
    };
    await rclone("copy", "--create-empty-src-dirs", tree, "served:incoming");
    const back = `${dir.path}/back`;
    await rclone("copy", "--create-empty-src-dirs", "served:incoming", back);
    const { code, stderr } = await server.stop();
    assert.equal(code, 0, stderr);
    // rclone copies contents, not hard links: compare with links broken on both sides.
    const differences = (await compareTrees(back, tree, { times: false }))
      .filter((line) => !line.startsWith("hard-link group"));
    assert.deepEqual(differences, []);
    await wimlib("verify", wimPath);
    const applied = await applyWithWimlib(wimPath, dir.path);
    const inImage = (await compareTrees(`${applied}/incoming`, tree, { times: false }))
      .filter((line) => !line.startsWith("hard-link group"));
    assert.deepEqual(inImage, []);
    assert.equal(await Deno.readTextFile(`${applied}/hello.txt`), "hello\n");
  },
});

Deno.test({
  name: "cadaver lists the served image and gets a file",
  ignore: !hasWimlib || !hasCadaver,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await smallWim(dir.path);
    await using server = await startServeCli([wimPath]);
    const got = `${dir.path}/got.txt`;
    const child = new Deno.Command("cadaver", {
      args: [`${server.base}/docs/`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { HOME: dir.path },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`ls\nget readme.txt ${got}\nquit\n`));
    await writer.close();
    const result = await child.output();
    const output = new TextDecoder().decode(result.stdout);
    assert.match(output, /readme\.txt\s+800/);
    assert.equal(await Deno.readTextFile(got), "read me\n".repeat(100));
  },
});
