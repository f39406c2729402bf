/**
 * Bad input through the real command line: one line on stderr, the documented exit code, within
 * seconds, and the input file unchanged.
 */

import assert from "node:assert/strict";
import { tempDir, wimkitCli } from "../support/wimlib.ts";
import { buildProgram } from "../../tasks/cli.ts";
import denoJson from "../../deno.json" with { type: "json" };

const FIXTURE = new URL("../fixtures/xpress.wim", import.meta.url).pathname;

async function expectFailure(args: string[], code: number, message: RegExp): Promise<void> {
  const started = performance.now();
  const result = await wimkitCli(args);
  assert.ok(performance.now() - started < 20000, "took too long");
  assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected, got: ${result.stderr}`);
  assert.match(lines[0]!, /^wimkit: error: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, "no stack trace");
}

Deno.test("the CLI reports bad input in one line with the right exit code", async () => {
  await using work = await tempDir();
  const original = await Deno.readFile(FIXTURE);
  const truncated = `${work.path}/truncated.wim`;
  await Deno.writeFile(truncated, original.subarray(0, original.length - 300));
  const flipped = `${work.path}/flipped.wim`;
  const bytes = original.slice();
  bytes[0x30]! ^= 0x55; // blob table size
  await Deno.writeFile(flipped, bytes);
  const text = `${work.path}/text.wim`;
  await Deno.writeTextFile(text, "not a wim\n".repeat(50));
  await expectFailure(["info", `${work.path}/missing.wim`], 2, /missing\.wim.*no such file/);
  await expectFailure(["info", work.path], 1, /not a regular file/);
  await expectFailure(["info", text], 3, /not a WIM file/);
  await expectFailure(["apply", truncated, `${work.path}/out1`], 3, /truncated\.wim/);
  await expectFailure(["verify", flipped], 3, /flipped\.wim/);
  await expectFailure(["apply", FIXTURE, "7", `${work.path}/out2`], 2, /no image 7/);
  await expectFailure(["dir", FIXTURE, "1", "--path=/nope"], 2, /no path "\/nope"/);
  await expectFailure(["apply", FIXTURE], 2, /missing required argument|TARGET/);
  await expectFailure(["info", FIXTURE, "--bogus"], 2, /unknown option '--bogus'/);
  await expectFailure(["frobnicate"], 2, /unknown command/);
  assert.deepEqual(await Deno.readFile(truncated), original.subarray(0, original.length - 300));
  assert.deepEqual(await Deno.readFile(flipped), bytes);
});

Deno.test("the CLI prints the stack with --debug", async () => {
  const result = await wimkitCli(["info", "/nonexistent/x.wim", "--debug"]);
  assert.equal(result.code, 2);
  assert.ok(result.stderr.trim().split("\n").length > 1);
});

Deno.test("every command has --help, and --version prints deno.json's version", async () => {
  const commands = buildProgram({ out() {}, err() {} }).commands.map((command) => command.name());
  assert.ok(commands.length >= 20, commands.join(" "));
  for (const command of commands) {
    const result = await wimkitCli([command, "--help"]);
    assert.equal(result.code, 0, command);
    assert.match(result.stdout, new RegExp(`Usage: wimkit ${command}`));
  }
  const version = await wimkitCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), denoJson.version);
});

Deno.test("apply --json reports what was written; extract puts paths under --dest-dir", async () => {
  await using work = await tempDir();
  const apply = await wimkitCli(["apply", FIXTURE, `${work.path}/out`, "--json"]);
  assert.equal(apply.code, 0, apply.stderr);
  const report = JSON.parse(apply.stdout);
  assert.equal(report.image, 1);
  assert.equal(report.files, 10);
  assert.equal(report.symlinks, 5);
  const extract = await wimkitCli([
    "extract",
    FIXTURE,
    "1",
    "/dir1/sub",
    "/a.txt",
    `--dest-dir=${work.path}/ex`,
  ]);
  assert.equal(extract.code, 0, extract.stderr);
  assert.equal(await Deno.readTextFile(`${work.path}/ex/a.txt`), "hello\n");
  assert.ok((await Deno.stat(`${work.path}/ex/sub/mixed.bin`)).isFile);
});
