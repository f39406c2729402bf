/**
 * Reading WIMs over HTTP: every reading command against a real nginx on 127.0.0.1 (with and
 * without Range support, behind a flaky proxy), byte accounting from nginx's access log, and a
 * file replaced on the server in the middle of an apply.
 */

import assert from "node:assert/strict";
import { applyImage, dentryStreams, walkTree, Wim } from "../../mod.ts";
import { toHex } from "../../lib/format/bytes.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { makeBytes, makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";
import { hasNginx, startNginx, sumBytesSent } from "../support/nginx.ts";
import { startFlakyProxy } from "../support/flaky_proxy.ts";

const ignore = !hasWimlib || !hasNginx;

/** A served directory holding `three.wim`: 3 LZX images of distinct trees (1-2 MiB each). */
async function makeServedWims(dir: string): Promise<void> {
  for (const seed of [1, 2, 3]) {
    const src = `${dir}/src${seed}`;
    await Deno.mkdir(src);
    await makeTree(src, { seed });
    await Deno.writeFile(`${src}/random.bin`, makeBytes("random", 600_000 + seed * 1000, seed));
    await Deno.writeFile(`${src}/text.txt`, makeBytes("text", 900_000, seed + 10));
    await Deno.writeFile(`${src}/code.bin`, makeBytes("x86", 300_000, seed + 20));
  }
  await Deno.mkdir(`${dir}/www`);
  const wim = `${dir}/www/three.wim`;
  await wimlib("capture", `${dir}/src1`, wim, "One", "--compress=lzx");
  await wimlib("append", `${dir}/src2`, wim, "Two");
  await wimlib("append", `${dir}/src3`, wim, "Three");
}

async function localApply(wim: string, image: number, target: string): Promise<void> {
  await using opened = await Wim.open(wim);
  await applyImage(opened, image, target);
}

Deno.test({
  name: "http: apply, extract, info, dir, verify and export from nginx match the local file",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await using server = await startNginx({ root: `${tmp.path}/www` });
    const url = server.url("three.wim");
    const local = `${tmp.path}/www/three.wim`;

    const apply = await wimkitCli(["apply", url, "2", `${tmp.path}/remote`]);
    assert.equal(apply.code, 0, apply.stderr);
    await localApply(local, 2, `${tmp.path}/local`);
    assert.deepEqual(await compareTrees(`${tmp.path}/remote`, `${tmp.path}/local`), []);

    const extract = await wimkitCli([
      "extract",
      url,
      "3",
      "/dir1",
      "/text.txt",
      `--dest-dir=${tmp.path}/extracted`,
    ]);
    assert.equal(extract.code, 0, extract.stderr);
    assert.deepEqual(
      await Deno.readFile(`${tmp.path}/extracted/text.txt`),
      await Deno.readFile(`${tmp.path}/src3/text.txt`),
    );

    for (const args of [["info"], ["info", "--json", "--header"], ["dir", "1"], ["verify"]]) {
      const [command, ...rest] = args;
      const remote = await wimkitCli([command!, url, ...rest]);
      const here = await wimkitCli([command!, local, ...rest]);
      assert.equal(remote.code, 0, `${args.join(" ")}: ${remote.stderr}`);
      assert.equal(remote.stdout.replaceAll(url, local), here.stdout, args.join(" "));
    }

    await server.clearAccessLog();
    const exported = await wimkitCli(["export", url, "3", `${tmp.path}/exported.wim`]);
    assert.equal(exported.code, 0, exported.stderr);
    // The raw resource copies announce their reads: few requests, no byte fetched twice.
    const exportLog = await server.accessLog();
    const exportSent = sumBytesSent(exportLog);
    const wimBytes = (await Deno.stat(local)).size;
    assert.ok(exportLog.length < 20, `export: ${exportLog.length} requests, ${exportSent} bytes`);
    assert.ok(exportSent <= wimBytes * 1.05, `export: sent ${exportSent} of ${wimBytes} bytes`);
    await wimlib("verify", `${tmp.path}/exported.wim`);
    await wimlib("apply", `${tmp.path}/exported.wim`, "1", `${tmp.path}/from-export`);
    await localApply(local, 3, `${tmp.path}/local3`);
    assert.deepEqual(
      await compareTrees(`${tmp.path}/from-export`, `${tmp.path}/local3`, { times: false }),
      [],
    );
  },
});

Deno.test({
  name: "http: applying one image of three sends no more than its resources and tables plus 5%",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await using server = await startNginx({ root: `${tmp.path}/www` });
    const local = `${tmp.path}/www/three.wim`;

    await using wim = await Wim.open(local);
    const image = await wim.readImage(2);
    const hashes = new Set<string>();
    for (const { node } of walkTree(image.metadata.root)) {
      const streams = dentryStreams(node);
      for (const hash of [streams.data, streams.reparse, ...streams.named.map((n) => n.hash)]) {
        if (hash) hashes.add(toHex(hash));
      }
    }
    let budget = 208 + wim.header.blobTable.sizeInWim + wim.header.xml.sizeInWim;
    for (const blob of [wim.metadataBlob(2), ...[...hashes].map((hash) => wim.blob(hash)!)]) {
      assert.equal(blob.location.kind, "resource");
      if (blob.location.kind === "resource") budget += blob.location.resource.sizeInWim;
    }

    const result = await wimkitCli(["apply", server.url("three.wim"), "2", `${tmp.path}/out`]);
    assert.equal(result.code, 0, result.stderr);
    const log = await server.accessLog();
    const sent = sumBytesSent(log);
    assert.ok(
      sent <= budget * 1.05,
      `sent ${sent} bytes in ${log.length} requests, budget ${budget} (+5%)`,
    );
    assert.ok(sent >= budget * 0.9, `sent ${sent}, expected about ${budget}`);
    assert.ok(log.every((entry) => entry.status === 206), "every answer is a 206");
    assert.ok(log.length < 40, `${log.length} requests`);
  },
});

Deno.test({
  name: "http: a split set is applied from URLs named with --ref",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await wimlib("split", `${tmp.path}/www/three.wim`, `${tmp.path}/www/set.swm`, "1");
    await using server = await startNginx({ root: `${tmp.path}/www` });
    const parts: string[] = [];
    for await (const entry of Deno.readDir(`${tmp.path}/www`)) {
      if (entry.name.endsWith(".swm") && entry.name !== "set.swm") parts.push(entry.name);
    }
    assert.ok(parts.length >= 2, `split made ${parts.length + 1} parts`);
    const refs = parts.map((name) => `--ref=${server.url(name)}`);
    const result = await wimkitCli([
      "apply",
      server.url("set.swm"),
      "1",
      `${tmp.path}/out`,
      ...refs,
    ]);
    assert.equal(result.code, 0, result.stderr);
    await localApply(`${tmp.path}/www/three.wim`, 1, `${tmp.path}/local`);
    assert.deepEqual(await compareTrees(`${tmp.path}/out`, `${tmp.path}/local`), []);
    const verify = await wimkitCli(["verify", server.url("set.swm"), ...refs]);
    assert.equal(verify.code, 0, verify.stderr);
  },
});

Deno.test({
  name: "http: a server without Range support is downloaded once, with a warning",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await using server = await startNginx({ root: `${tmp.path}/www`, noRanges: true });
    const result = await wimkitCli(["apply", server.url("three.wim"), "1", `${tmp.path}/out`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /does not support Range requests; downloading the whole file/);
    await localApply(`${tmp.path}/www/three.wim`, 1, `${tmp.path}/local`);
    assert.deepEqual(await compareTrees(`${tmp.path}/out`, `${tmp.path}/local`), []);
    const log = await server.accessLog();
    assert.equal(log.length, 1, "one pass over the file");
    assert.equal(log[0]!.status, 200);

    await assert.rejects(
      Wim.open(server.url("three.wim"), { source: { noRange: "refuse" } }),
      /does not support Range requests/,
    );
  },
});

Deno.test({
  name: "http: apply through a proxy that answers 503 or drops connections succeeds by retrying",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await using server = await startNginx({ root: `${tmp.path}/www` });
    await using proxy = startFlakyProxy({
      upstream: server.origin,
      seed: 42,
      unavailableRate: 0.2,
      dropRate: 0.2,
    });
    await using wim = await Wim.open(proxy.url("three.wim"), {
      source: { retryDelayMs: 5, retries: 12, segmentBytes: 64 << 10 },
    });
    await applyImage(wim, 3, `${tmp.path}/out`);
    await localApply(`${tmp.path}/www/three.wim`, 3, `${tmp.path}/local`);
    assert.deepEqual(await compareTrees(`${tmp.path}/out`, `${tmp.path}/local`), []);
    assert.ok(
      proxy.counts.unavailable > 0 && proxy.counts.dropped > 0,
      JSON.stringify(proxy.counts),
    );
  },
});

Deno.test({
  name: "http: a 404 is a clear not-found error, and a missing server fails without hanging",
  ignore: !hasNginx,
  async fn() {
    await using tmp = await tempDir();
    await using server = await startNginx({ root: tmp.path });
    const missing = await wimkitCli(["info", server.url("nope.wim")]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^wimkit: error: Cannot read "http:\/\/127\.0\.0\.1:\d+\/nope\.wim": the server answered 404 Not Found\n$/,
    );
    await server.stop();
    await assert.rejects(
      Wim.open(server.url("nope.wim"), { source: { retries: 2, retryDelayMs: 5 } }),
      /gave up after 3 attempts/,
    );
  },
});

Deno.test({
  name: "http: a file replaced on the server mid-apply stops the apply with a clear message",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    const www = `${tmp.path}/www`;
    await Deno.mkdir(`${tmp.path}/src/sub`, { recursive: true });
    await Deno.mkdir(www);
    // 20 MB uncompressed: more than two 8 MiB request segments.
    await Deno.writeFile(`${tmp.path}/src/big.bin`, makeBytes("random", 20 << 20, 5));
    for (let i = 0; i < 20; i++) {
      await Deno.writeTextFile(`${tmp.path}/src/sub/f${i}.txt`, `file ${i}\n`);
    }
    await wimlib("capture", `${tmp.path}/src`, `${www}/served.wim`, "Big", "--compress=none");
    await Deno.writeTextFile(`${tmp.path}/src/sub/f0.txt`, "changed\n");
    await wimlib("capture", `${tmp.path}/src`, `${tmp.path}/other.wim`, "Big", "--compress=none");
    await using server = await startNginx({ root: www, limitRateBytes: 8 << 20 });
    const apply = wimkitCli(["apply", server.url("served.wim"), `${tmp.path}/out`]);
    // Replace the file once the first 8 MiB segment has been served.
    for (let i = 0; i < 400; i++) {
      if ((await server.accessLog()).some((entry) => entry.bodyBytesSent >= 8 << 20)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await Deno.rename(`${tmp.path}/other.wim`, `${www}/served.wim`);
    const result = await apply;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /the file changed on the server during the operation/);
    assert.match(result.stderr, /the apply stopped: .*\d+ files? of the image were not written/);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    // No half-written file is left behind: big.bin is either absent or complete.
    const big = await Deno.stat(`${tmp.path}/out/big.bin`).catch(() => null);
    assert.ok(big === null || big.size === 20 << 20, `big.bin has ${big?.size} bytes`);
  },
});

Deno.test({
  name: "http: apply-to-volume and sysprep-check accept URLs",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    await makeServedWims(tmp.path);
    await using server = await startNginx({ root: `${tmp.path}/www` });
    const url = server.url("three.wim");
    await Deno.mkdir(`${tmp.path}/vol`);
    const volume = await wimkitCli(["apply-to-volume", url, "2", `${tmp.path}/vol`, "--json"]);
    assert.equal(volume.code, 0, volume.stderr);
    await localApply(`${tmp.path}/www/three.wim`, 2, `${tmp.path}/local`);
    assert.deepEqual(await compareTrees(`${tmp.path}/vol`, `${tmp.path}/local`), []);
    const check = await wimkitCli(["sysprep-check", `${url}:2`, "--json"]);
    assert.equal(check.code, 11, check.stderr); // not a Windows tree
    assert.equal(JSON.parse(check.stdout).image, 2);
  },
});
