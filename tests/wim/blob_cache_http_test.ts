/**
 * `apply --cache` from a WIM served by nginx: the second image fetches only the blobs the cache
 * lacks (checked in nginx's access log), and processes sharing one cache all succeed.
 */

import assert from "node:assert/strict";
import { Wim } from "@wimkit/wimkit";
import { hasNginx, startNginx } from "../support/nginx.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";
import { imageBlobHashes, makeThreeImageWim } from "./cache_test_wim.ts";

/** What the reader may fetch beyond what it needs, to join nearby ranges (http_source.ts). */
const GAP_SLACK_BYTES = 64 << 10;

interface Span {
  start: number;
  end: number;
}

/** The byte ranges of the 206 responses in the log. */
function fetchedSpans(entries: { status: number; range: string }[]): Span[] {
  const spans: Span[] = [];
  for (const entry of entries) {
    const match = /^bytes=(\d+)-(\d+)$/.exec(entry.range);
    assert.ok(entry.status === 206 && match, `unexpected request: ${JSON.stringify(entry)}`);
    spans.push({ start: Number(match[1]), end: Number(match[2]) + 1 });
  }
  return spans;
}

function overlap(spans: Span[], start: number, end: number): number {
  let bytes = 0;
  for (const span of spans) {
    bytes += Math.max(0, Math.min(end, span.end) - Math.max(start, span.start));
  }
  return bytes;
}

/** File ranges of the resources of `hashes` in `wim` (non-solid WIM). */
function resourceSpans(wim: Wim, hashes: Iterable<string>): Span[] {
  return [...hashes].map((hash) => {
    const location = wim.blob(hash)!.location;
    assert.equal(location.kind, "resource");
    if (location.kind !== "resource") throw new Error("unreachable");
    return {
      start: location.resource.offset,
      end: location.resource.offset + location.resource.sizeInWim,
    };
  });
}

Deno.test({
  name: "apply --cache over HTTP fetches for image 2 only the blobs image 1 did not bring",
  ignore: !hasWimlib || !hasNginx,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/www`);
    const wimPath = await makeThreeImageWim(`${work.path}/www`);
    await using server = await startNginx({ root: `${work.path}/www` });
    const url = server.url("three.wim");
    const cache = `${work.path}/cache`;

    const first = await wimkitCli(["apply", url, "1", `${work.path}/ours1`, `--cache=${cache}`]);
    assert.equal(first.code, 0, first.stderr);
    await server.clearAccessLog();
    const second = await wimkitCli(["apply", url, "2", `${work.path}/ours2`, `--cache=${cache}`]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /from the cache/);
    const spans = fetchedSpans(await server.accessLog());

    await using wim = await Wim.open(wimPath);
    const blobs1 = await imageBlobHashes(wim, 1);
    const blobs2 = await imageBlobHashes(wim, 2);
    const shared = [...blobs2].filter((hash) => blobs1.has(hash));
    const added = [...blobs2].filter((hash) => !blobs1.has(hash));
    // Every new blob was fetched in full; of the shared ones, at most gap filler.
    for (const span of resourceSpans(wim, added)) {
      assert.equal(overlap(spans, span.start, span.end), span.end - span.start);
    }
    let sharedFetched = 0;
    for (const span of resourceSpans(wim, shared)) {
      const fetched = overlap(spans, span.start, span.end);
      if (span.end - span.start > GAP_SLACK_BYTES) assert.equal(fetched, 0, "a big shared blob");
      sharedFetched += fetched;
    }
    assert.ok(sharedFetched <= GAP_SLACK_BYTES, `${sharedFetched} bytes of shared blobs fetched`);
    // In total: the new blobs, image 2's metadata, header, blob table and XML, plus 5%.
    const needed = resourceSpans(wim, added).reduce((n, s) => n + s.end - s.start, 0) +
      metadataSize(wim, 2) + wim.header.blobTable.sizeInWim + wim.header.xml.sizeInWim +
      4096;
    const sent = spans.reduce((n, s) => n + s.end - s.start, 0);
    assert.ok(sent <= needed * 1.05 + GAP_SLACK_BYTES, `sent ${sent} bytes, needed ${needed}`);

    for (const index of [1, 2]) {
      await wimlib("apply", wimPath, String(index), `${work.path}/theirs${index}`);
      assert.deepEqual(
        await compareTrees(`${work.path}/ours${index}`, `${work.path}/theirs${index}`),
        [],
      );
    }
  },
});

Deno.test({
  name: "apply --cache: processes applying at once with one small cache all succeed",
  ignore: !hasWimlib || !hasNginx,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/www`);
    const wimPath = await makeThreeImageWim(`${work.path}/www`);
    await using server = await startNginx({ root: `${work.path}/www` });
    const url = server.url("three.wim");
    const cache = [`--cache=${work.path}/cache`, "--cache-max=1M"];
    for (const index of [2, 3]) {
      await wimlib("apply", wimPath, String(index), `${work.path}/theirs${index}`);
    }
    // Round 1: an empty cache, both store the same blobs. Round 2: both read and evict.
    for (const round of [1, 2]) {
      const runs = [2, 3, 3].map((index, n) =>
        wimkitCli(["apply", url, String(index), `${work.path}/r${round}_${n}`, ...cache])
      );
      const results = await Promise.all(runs);
      for (const [n, result] of results.entries()) {
        assert.equal(result.code, 0, `round ${round}, process ${n}: ${result.stderr}`);
        const index = [2, 3, 3][n]!;
        assert.deepEqual(
          await compareTrees(`${work.path}/r${round}_${n}`, `${work.path}/theirs${index}`),
          [],
        );
      }
    }
    let total = 0;
    for await (const sub of Deno.readDir(`${work.path}/cache`)) {
      if (!sub.isDirectory) continue;
      for await (const entry of Deno.readDir(`${work.path}/cache/${sub.name}`)) {
        assert.ok(!entry.name.startsWith(".tmp-"), "no temporary file is left");
        total += (await Deno.stat(`${work.path}/cache/${sub.name}/${entry.name}`)).size;
      }
    }
    assert.ok(total > 0 && total <= 3 << 20, `cache holds ${total} bytes`);
  },
});

function metadataSize(wim: Wim, index: number): number {
  const location = wim.metadataBlob(index).location;
  return location.kind === "resource" ? location.resource.sizeInWim : 0;
}
