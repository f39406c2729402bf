/** `--cache` and `--cache-max` on the command line: local WIMs, the recipe, and bad values. */

import assert from "node:assert/strict";
import { compareTrees } from "../support/tree_compare.ts";
import { tempDir, wimkitCli } from "../support/wimlib.ts";

const WIM = "tests/fixtures/two_images.wim";

Deno.test("apply --cache takes a local WIM's second apply from the cache", async () => {
  await using work = await tempDir();
  const cache = `--cache=${work.path}/cache`;
  const first = await wimkitCli(["apply", WIM, "1", `${work.path}/a`, cache, "--cache-max=10M"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /: 0 blob\(s\) \(0\.0 MiB\) from the cache, [1-9][0-9]* stored/);
  const second = await wimkitCli(["apply", WIM, "1", `${work.path}/b`, cache]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /: [1-9][0-9]* blob\(s\) .* from the cache, 0 stored/);
  assert.deepEqual(await compareTrees(`${work.path}/a`, `${work.path}/b`), []);
  const quiet = await wimkitCli(["apply", WIM, "1", `${work.path}/c`, cache, "--quiet"]);
  assert.equal(quiet.stderr, "");
});

Deno.test("extract and apply-to-volume accept --cache", async () => {
  await using work = await tempDir();
  const cache = `--cache=${work.path}/cache`;
  await Deno.mkdir(`${work.path}/volume`);
  const recipe = await wimkitCli(["apply-to-volume", WIM, "2", `${work.path}/volume`, cache]);
  assert.equal(recipe.code, 0, recipe.stderr);
  const extract = await wimkitCli(
    ["extract", WIM, "2", "/", `--dest-dir=${work.path}/extracted`, cache],
  );
  assert.equal(extract.code, 0, extract.stderr);
  assert.match(extract.stderr, /: [1-9][0-9]* blob\(s\) .* from the cache, 0 stored/);
});

Deno.test("--cache-max without --cache, or not a size, is a usage error", async () => {
  await using work = await tempDir();
  const alone = await wimkitCli(["apply", WIM, "1", `${work.path}/t`, "--cache-max=1G"]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--cache-max needs --cache=DIR/);
  const bad = await wimkitCli(
    ["apply", WIM, "1", `${work.path}/t`, `--cache=${work.path}/c`, "--cache-max=lots"],
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--cache-max: Cannot read size "lots"/);
  assert.equal(bad.stderr.trim().split("\n").length, 1, "one line, no stack");
});
