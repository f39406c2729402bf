/**
 * Reading through a blob cache from a local WIM: hits are served from the cache, misses stored,
 * a damaged entry is read again from the WIM, and the applied trees match wimlib-imagex's.
 */

import assert from "node:assert/strict";
import { createHash, type Hash } from "node:crypto";
import { applyImage, BlobCache, InlineChunkPool, Wim, WorkerChunkPool } from "@wimkit/wimkit";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";
import { imageBlobHashes, makeThreeImageWim, SHARED_FILES } from "./cache_test_wim.ts";

Deno.test({
  name: "Wim with a cache serves the blobs it holds from the cache and stores the others",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const wimPath = await makeThreeImageWim(work.path);
    const cacheDir = `${work.path}/cache`;
    let blobs1: Set<string>;
    let blobs2: Set<string>;
    {
      await using plain = await Wim.open(wimPath);
      blobs1 = await imageBlobHashes(plain, 1);
      blobs2 = await imageBlobHashes(plain, 2);
    }
    const shared = [...blobs2].filter((hash) => blobs1.has(hash));
    const added = [...blobs2].filter((hash) => !blobs1.has(hash));
    // 4 replaced files, one new one, and the absolute symlink's reparse data (it names src2).
    assert.equal(added.length, 6);
    assert.ok(shared.length > SHARED_FILES);

    const apply = async (index: number, pool: InlineChunkPool | WorkerChunkPool) => {
      const cache = await BlobCache.open(cacheDir);
      await using wim = await Wim.open(wimPath, { cache, pool });
      await applyImage(wim, index, `${work.path}/ours${index}`);
      return cache.stats;
    };
    using workers = new WorkerChunkPool(2);
    const first = await apply(1, workers);
    assert.equal(first.hits, 0);
    assert.equal(first.stored, blobs1.size + 1, "every blob of image 1 and its metadata");
    using inline = new InlineChunkPool();
    const second = await apply(2, inline);
    assert.equal(second.hits, shared.length, "the shared blobs came from the cache");
    assert.equal(second.stored, added.length + 1, "the new blobs and image 2's metadata");

    // A damaged entry is a miss: read again from the WIM, stored again, and the tree is right.
    const damagedCache = await BlobCache.open(cacheDir);
    const victim = damagedCache.entryPath(added[0]!);
    const bytes = await Deno.readFile(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    await Deno.writeFile(victim, bytes);
    await using wim = await Wim.open(wimPath, { cache: damagedCache });
    await applyImage(wim, 2, `${work.path}/again2`);
    assert.equal(damagedCache.stats.discarded, 1);
    assert.equal(damagedCache.stats.stored, 1);
    assert.equal(damagedCache.stats.hits, blobs2.size + 1 - 1);

    for (const index of [1, 2]) {
      await wimlib("apply", wimPath, String(index), `${work.path}/theirs${index}`);
      assert.deepEqual(
        await compareTrees(`${work.path}/ours${index}`, `${work.path}/theirs${index}`),
        [],
      );
    }
    assert.deepEqual(await compareTrees(`${work.path}/again2`, `${work.path}/theirs2`), []);
  },
});

Deno.test({
  name: "Wim with a cache reads a blob from the WIM when its entry vanished after the lookup",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const wimPath = await makeThreeImageWim(work.path);
    const cache = await BlobCache.open(`${work.path}/cache`);
    await using wim = await Wim.open(wimPath, { cache });
    const blobs = [...await imageBlobHashes(wim, 1)].map((hash) => wim.blob(hash)!);
    for await (const _ of wim.readBlobs(blobs)) { /* fill the cache */ }
    const hashes = new Map<string, Hash>();
    let evicted = false;
    for await (const piece of wim.readBlobs(blobs)) {
      // Once reading has begun (every lookup done), another "process" empties the cache.
      if (!evicted) {
        await cache.evict(0);
        evicted = true;
      }
      if (!hashes.has(piece.blob.hashHex)) hashes.set(piece.blob.hashHex, createHash("sha1"));
      hashes.get(piece.blob.hashHex)!.update(piece.data);
    }
    for (const blob of blobs) assert.equal(hashes.get(blob.hashHex)?.digest("hex"), blob.hashHex);
    assert.equal(cache.stats.evicted, blobs.length + 1, "image 1's blobs and metadata");
    assert.equal(cache.stats.hits, 1, "only the first blob was read before the eviction");
  },
});

Deno.test("Wim with a cache serves a solid WIM's blobs from the cache the second time", async () => {
  await using work = await tempDir();
  const stats = [];
  for (const round of [1, 2]) {
    const cache = await BlobCache.open(`${work.path}/cache`);
    await using wim = await Wim.open("tests/fixtures/solid.esd", { cache });
    assert.ok(wim.blobs().some((blob) => blob.location.kind === "solid"));
    await applyImage(wim, 1, `${work.path}/round${round}`);
    stats.push(cache.stats);
  }
  assert.equal(stats[0]!.hits, 0);
  assert.ok(stats[0]!.stored > 1);
  assert.equal(stats[1]!.stored, 0);
  assert.equal(stats[1]!.hits, stats[0]!.stored);
  assert.deepEqual(await compareTrees(`${work.path}/round1`, `${work.path}/round2`), []);
});
