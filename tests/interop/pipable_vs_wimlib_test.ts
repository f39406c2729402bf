/**
 * Pipable WIMs (wimlib's streaming variant) both ways: wimlib-imagex --pipable output applied by
 * wimkit from a file and from a pipe; wimkit's pipable output verified and applied by
 * wimlib-imagex from a file and from standard input; wimkit to wimkit through a real pipe.
 */

import assert from "node:assert/strict";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

const CODECS = ["none", "xpress", "lzx", "lzms"] as const;
const PIPABLE_MAGIC = "WLPWM\0\0\0";
const CLI = new URL("../../tasks/cli.ts", import.meta.url).pathname;

/** Runs wimlib-imagex with `input` on its standard input. */
async function wimlibWithStdin(args: string[], input: Uint8Array): Promise<void> {
  const child = new Deno.Command("wimlib-imagex", {
    args,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const result = await child.output();
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
}

/** Runs the wimkit CLI with `input` on stdin; the CLI may stop reading early (an error). */
async function wimkitWithStdin(
  args: string[],
  input: Uint8Array,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(input);
    await writer.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
  const result = await child.output();
  return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
}

function magicOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, 8));
}

/** Two source trees sharing some files, as two images. */
async function makeSources(work: string): Promise<[string, string]> {
  const one = `${work}/src1`;
  const two = `${work}/src2`;
  await Deno.mkdir(one);
  await Deno.mkdir(two);
  await makeTree(one, { seed: 11 });
  await makeTree(two, { seed: 11 });
  await Deno.writeTextFile(`${two}/only_in_two.txt`, "second image\n".repeat(5000));
  return [one, two];
}

for (const codec of CODECS) {
  Deno.test({
    name:
      `wimlib --pipable --compress=${codec}, two images: wimkit applies each from a file and from a pipe as wimlib does`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      const [one, two] = await makeSources(work.path);
      const wim = `${work.path}/p.wim`;
      await wimlib("capture", one, wim, "one", "--pipable", `--compress=${codec}`);
      await wimlib("append", two, wim, "two");
      const bytes = await Deno.readFile(wim);
      assert.equal(magicOf(bytes), PIPABLE_MAGIC);
      for (const [image, source] of [["1", one], ["two", two]] as const) {
        const reference = `${work.path}/ref_${image}`;
        await wimlib("apply", wim, image, reference);
        const fromFile = `${work.path}/file_${image}`;
        const file = await wimkitCli(["apply", wim, image, fromFile, "--quiet"]);
        assert.equal(file.code, 0, file.stderr);
        assert.deepEqual(await compareTrees(fromFile, reference), []);
        const fromPipe = `${work.path}/pipe_${image}`;
        const piped = await wimkitCli(["apply", "-", image, fromPipe, "--quiet"], {
          stdin: bytes,
        });
        assert.equal(piped.code, 0, piped.stderr);
        assert.deepEqual(await compareTrees(fromPipe, reference), []);
        assert.deepEqual(await compareTrees(fromPipe, source, { linkTimes: false }), []);
      }
      const verify = await wimkitCli(["verify", wim, "--quiet"]);
      assert.equal(verify.code, 0, verify.stderr);
    },
  });
}

for (const codec of CODECS) {
  Deno.test({
    name:
      `capture --pipable --compress=${codec}: wimlib-imagex verifies it and applies it from a file and from stdin`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      const [one] = await makeSources(work.path);
      const wim = `${work.path}/k.wim`;
      const result = await wimkitCli([
        "capture",
        one,
        wim,
        "--pipable",
        `--compress=${codec}`,
        "--quiet",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const bytes = await Deno.readFile(wim);
      assert.equal(magicOf(bytes), PIPABLE_MAGIC);
      await wimlib("verify", wim);
      await wimlib("apply", wim, `${work.path}/from_file`);
      assert.deepEqual(await compareTrees(`${work.path}/from_file`, one, { linkTimes: false }), []);
      await wimlibWithStdin(["apply", "-", `${work.path}/from_stdin`], bytes);
      assert.deepEqual(
        await compareTrees(`${work.path}/from_stdin`, one, { linkTimes: false }),
        [],
      );
    },
  });
}

Deno.test({
  name: "capture DIR - | apply - TARGET: two wimkit processes through a pipe reproduce the tree",
  async fn() {
    await using work = await tempDir();
    const [one] = await makeSources(work.path);
    const target = `${work.path}/target`;
    const spawn = (args: string[], stdin: "piped" | "null", stdout: "piped" | "null") =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", CLI, ...args],
        stdin,
        stdout,
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
    const capture = spawn(["capture", one, "-", "--compress=lzx", "--quiet"], "null", "piped");
    const apply = spawn(["apply", "-", target, "--quiet"], "piped", "null");
    const [, captureErrors, captured, applied] = await Promise.all([
      capture.stdout.pipeTo(apply.stdin),
      new Response(capture.stderr).text(),
      capture.status,
      apply.output(),
    ]);
    assert.equal(captured.code, 0, captureErrors);
    assert.equal(applied.code, 0, new TextDecoder().decode(applied.stderr));
    assert.deepEqual(await compareTrees(target, one, { linkTimes: false }), []);
  },
});

Deno.test({
  name:
    "export to - and export --pipable write pipable WIMs wimlib verifies; a pipable WIM exports to a normal one",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const [one, two] = await makeSources(work.path);
    const pipable = `${work.path}/p.wim`;
    await wimlib("capture", one, pipable, "one", "--pipable", "--compress=lzx");
    await wimlib("append", two, pipable, "two");
    // To standard output: every image.
    const streamed = `${work.path}/streamed.wim`;
    const file = await Deno.open(streamed, { write: true, create: true, truncate: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CLI, "export", pipable, "all", "-", "--quiet"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.pipeTo(file.writable);
    assert.equal((await child.output()).code, 0);
    assert.equal(magicOf(await Deno.readFile(streamed)), PIPABLE_MAGIC);
    await wimlib("verify", streamed);
    await wimlib("apply", streamed, "2", `${work.path}/streamed_2`);
    assert.deepEqual(await compareTrees(`${work.path}/streamed_2`, two, { linkTimes: false }), []);
    // A pipable WIM exported to a normal one copies the compressed resources as they are.
    const normal = `${work.path}/normal.wim`;
    const plain = await wimkitCli(["export", pipable, "two", normal, "--quiet", "--json"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(JSON.parse(plain.stdout).copiedBlobs > 0);
    assert.equal(magicOf(await Deno.readFile(normal)), "MSWIM\0\0\0");
    await wimlib("verify", normal);
    await wimlib("apply", normal, `${work.path}/normal_applied`);
    assert.deepEqual(
      await compareTrees(`${work.path}/normal_applied`, two, { linkTimes: false }),
      [],
    );
    // And a normal WIM exported --pipable.
    const again = `${work.path}/again.wim`;
    const back = await wimkitCli(["export", normal, "1", again, "--pipable", "--quiet"]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(magicOf(await Deno.readFile(again)), PIPABLE_MAGIC);
    await wimlib("verify", again);
  },
});

Deno.test({
  name: "apply - fails with one error line on a truncated stream and on a WIM that is not pipable",
  async fn() {
    await using work = await tempDir();
    const [one] = await makeSources(work.path);
    const wim = `${work.path}/k.wim`;
    const normal = `${work.path}/n.wim`;
    assert.equal((await wimkitCli(["capture", one, wim, "--pipable", "--quiet"])).code, 0);
    assert.equal((await wimkitCli(["capture", one, normal, "--quiet"])).code, 0);
    const bytes = await Deno.readFile(wim);
    for (const length of [0, 100, 300, Math.floor(bytes.length / 2), bytes.length - 100]) {
      const result = await wimkitWithStdin(
        ["apply", "-", `${work.path}/t${length}`],
        bytes.subarray(0, length),
      );
      assert.equal(result.code, 3, `${length}: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /^wimkit: error: .*(truncated|ended|not a WIM|is empty)/);
    }
    const notPipable = await wimkitWithStdin(
      ["apply", "-", `${work.path}/n`],
      await Deno.readFile(normal),
    );
    assert.equal(notPipable.code, 3);
    assert.match(notPipable.stderr.trim(), /^wimkit: error: .*not pipable[^\n]*$/);
  },
});

Deno.test({
  name: "capture - refuses --solid, and append refuses a pipable WIM, each with one line",
  async fn() {
    await using work = await tempDir();
    const [one] = await makeSources(work.path);
    const solid = await wimkitCli(["capture", one, "-", "--solid"]);
    assert.equal(solid.code, 2);
    assert.match(solid.stderr.trim(), /^wimkit: error: .*cannot be solid[^\n]*$/);
    assert.equal(solid.stdout, "");
    const wim = `${work.path}/k.wim`;
    assert.equal((await wimkitCli(["capture", one, wim, "--pipable", "--quiet"])).code, 0);
    const before = await Deno.readFile(wim);
    const append = await wimkitCli(["append", one, wim, "again"]);
    assert.equal(append.code, 2);
    assert.match(append.stderr.trim(), /^wimkit: error: .*pipable[^\n]*$/);
    assert.deepEqual(await Deno.readFile(wim), before);
  },
});

Deno.test({
  name:
    "info -: a wimlib --pipable WIM piped in shows what info FILE shows (text, --json, --xml, one image), and bad input is one line",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const [one, two] = await makeSources(work.path);
    const wim = `${work.path}/p.wim`;
    await wimlib("capture", one, wim, "one", "--pipable", "--compress=lzx");
    await wimlib("append", two, wim, "two");
    const bytes = await Deno.readFile(wim);
    assert.equal(magicOf(bytes), PIPABLE_MAGIC);

    for (const extra of [[], ["--header"], ["--xml"], ["2"], ["two", "--json"]]) {
      const piped = await wimkitCli(["info", "-", ...extra], { stdin: bytes });
      assert.equal(piped.code, 0, `${extra.join(" ")}: ${piped.stderr}`);
      const file = await wimkitCli(["info", wim, ...extra]);
      assert.equal(file.code, 0, file.stderr);
      const shown = extra.includes("--json")
        ? piped.stdout.replace('"path":"-"', `"path":${JSON.stringify(wim)}`)
        : piped.stdout.replace(/^(Path:\s+)-$/m, `$1${wim}`);
      assert.equal(shown, file.stdout, extra.join(" "));
    }
    const json = JSON.parse((await wimkitCli(["info", "-", "--json"], { stdin: bytes })).stdout);
    assert.equal(json.imageCount, 2);
    assert.equal(json.compression, "lzx");
    assert.deepEqual(json.images.map((i: { name: string }) => i.name), ["one", "two"]);
    const oracle = await wimlib("info", wim);
    assert.match(oracle, /Image Count:\s+2/);
    assert.match(oracle, /Compression:\s+LZX/);
    for (const image of json.images) {
      assert.match(
        oracle,
        new RegExp(`Name:\\s+${image.name}\\n[^]*?File Count:\\s+${image.fileCount}\\n`),
      );
    }

    // Through a real pipe from wimlib-imagex, which must not be cut off (the stream is read to its end).
    const shell = await new Deno.Command("sh", {
      args: [
        "-c",
        `set -e; wimlib-imagex capture "$1" - one --pipable --compress=xpress 2>/dev/null | "$2" run --allow-all "$3" info - --json`,
        "sh",
        one,
        Deno.execPath(),
        CLI,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const decoder = new TextDecoder();
    assert.ok(shell.success, decoder.decode(shell.stderr));
    const streamed = JSON.parse(decoder.decode(shell.stdout));
    assert.equal(streamed.compression, "xpress");
    assert.equal(streamed.images[0].fileCount, json.images[0].fileCount);

    const normal = `${work.path}/n.wim`;
    await wimlib("capture", one, normal, "plain");
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty", new Uint8Array(0), /standard input is empty: expected a pipable WIM$/],
      ["not pipable", await Deno.readFile(normal), /not pipable/],
      [
        "not a WIM",
        new TextEncoder().encode("hello\n".repeat(100)),
        /^wimkit: error: standard input is not a pipable WIM: not a WIM file/,
      ],
      ["truncated", bytes.subarray(0, bytes.length - 100), /truncated/],
    ];
    for (const [what, input, message] of cases) {
      const result = await wimkitCli(["info", "-"], { stdin: input });
      assert.equal(result.code, 3, `${what}: ${result.stderr}`);
      assert.equal(result.stdout, "", what);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${what}: ${result.stderr}`);
      assert.match(lines[0]!, /^wimkit: error: /, what);
      assert.match(lines[0]!, message, what);
    }
    const blobs = await wimkitCli(["info", "-", "--blobs"], { stdin: bytes });
    assert.equal(blobs.code, 2);
    assert.match(blobs.stderr.trim(), /^wimkit: error: --blobs needs a WIM file[^\n]*$/);
  },
});
