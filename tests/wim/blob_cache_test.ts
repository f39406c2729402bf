import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BlobCache, EVICT_TO_FRACTION, STALE_TEMP_MS } from "../../lib/wim/blob_cache.ts";
import { parseByteSize } from "../../lib/wim/byte_size.ts";
import { WimkitError } from "../../lib/errors.ts";
import { tempDir } from "../support/wimlib.ts";
import { hammerBlobs, testBlob } from "./blob_cache_test_data.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readEntry(cache: BlobCache, hashHex: string, size: number) {
  using entry = await cache.open(hashHex, size);
  if (!entry) return null;
  const parts: Uint8Array[] = [];
  for await (const piece of entry.pieces()) parts.push(piece.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const sub of Deno.readDir(dir)) {
    if (!sub.isDirectory) {
      out.push(sub.name);
      continue;
    }
    for await (const item of Deno.readDir(`${dir}/${sub.name}`)) {
      out.push(`${sub.name}/${item.name}`);
    }
  }
  return out.sort();
}

Deno.test("BlobCache.put() stores an entry that get(), has() and open() return", async () => {
  await using dir = await tempDir();
  const cache = await BlobCache.open(`${dir.path}/cache`);
  const blob = testBlob(5000, 1);
  assert.equal(await cache.has(blob.hashHex, 5000), false);
  assert.equal(await cache.get(blob.hashHex), null);
  assert.equal(await cache.put(blob.hashHex, blob.data), true);
  assert.equal(await cache.has(blob.hashHex, 5000), true);
  assert.equal(await cache.has(blob.hashHex, 4999), false);
  assert.deepEqual(await cache.get(blob.hashHex), blob.data);
  assert.deepEqual(await readEntry(cache, blob.hashHex, 5000), blob.data);
  const files = await listFiles(`${dir.path}/cache`);
  assert.deepEqual(files, [`${blob.hashHex.slice(0, 2)}/${blob.hashHex.slice(2)}`, "CACHEDIR.TAG"]);
  assert.equal(cache.stats.stored, 1);
  assert.equal(cache.stats.hits, 2);
});

Deno.test("BlobCache.put() refuses data whose SHA-1 is not the key and leaves no file", async () => {
  await using dir = await tempDir();
  const cache = await BlobCache.open(dir.path);
  const blob = testBlob(3000, 2);
  const other = testBlob(3000, 3);
  assert.equal(await cache.put(blob.hashHex, other.data), false);
  const writer = cache.writer(blob.hashHex, 3000);
  await writer.write(blob.data.subarray(0, 1000));
  assert.equal(await writer.commit(), false, "an incomplete entry is not stored");
  assert.deepEqual(await listFiles(dir.path), ["CACHEDIR.TAG"], "no entry, no temporary");
});

Deno.test("BlobCache.open() treats a corrupt or truncated entry as a miss and removes it", async () => {
  await using dir = await tempDir();
  const cache = await BlobCache.open(dir.path);
  for (const size of [4000, (8 << 20) + 100]) {
    const blob = testBlob(size, size);
    const path = cache.entryPath(blob.hashHex);
    assert.equal(await cache.put(blob.hashHex, blob.data), true);
    const damaged = blob.data.slice();
    damaged[size >> 1] = damaged[size >> 1]! ^ 1;
    await Deno.writeFile(path, damaged);
    assert.equal(await readEntry(cache, blob.hashHex, size), null, `flipped bit, ${size} bytes`);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    assert.equal(await cache.put(blob.hashHex, blob.data), true);
    await Deno.writeFile(path, blob.data.subarray(0, size - 1));
    assert.equal(await cache.get(blob.hashHex), null, `truncated, ${size} bytes`);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    assert.equal(await cache.put(blob.hashHex, blob.data), true);
    assert.deepEqual(await readEntry(cache, blob.hashHex, size), blob.data);
  }
  assert.equal(cache.stats.discarded, 4);
});

Deno.test("BlobCache evicts the least recently used entries when a store passes maxBytes", async () => {
  await using dir = await tempDir();
  const cache = await BlobCache.open(dir.path, { maxBytes: 1000 });
  const blobs = Array.from({ length: 11 }, (_, i) => testBlob(100, 1000 + i));
  for (const blob of blobs.slice(0, 10)) {
    assert.equal(await cache.put(blob.hashHex, blob.data), true);
    await delay(15);
  }
  assert.equal(await cache.totalBytes(), 1000);
  // Using entry 0 makes entries 1 and 2 the oldest.
  assert.equal(await cache.has(blobs[0]!.hashHex, 100), true);
  await delay(15);
  assert.equal(await cache.put(blobs[10]!.hashHex, blobs[10]!.data), true);
  const present = await Promise.all(blobs.map((b) => cache.has(b.hashHex, 100)));
  // Down to 90% minus the new entry (800 bytes), then the new entry: 900.
  assert.equal(EVICT_TO_FRACTION, 0.9);
  assert.deepEqual(present, [true, false, false, true, true, true, true, true, true, true, true]);
  assert.equal(await cache.totalBytes(), 900);
  assert.equal(cache.stats.evicted, 2);
  const big = testBlob(1001, 5);
  assert.equal(await cache.put(big.hashHex, big.data), false, "larger than the whole cache");
});

Deno.test("BlobCache.evict() removes only its own names, and stale temporaries", async () => {
  await using dir = await tempDir();
  const cache = await BlobCache.open(dir.path);
  const blob = testBlob(2000, 9);
  await cache.put(blob.hashHex, blob.data);
  const sub = blob.hashHex.slice(0, 2);
  const foreign = ["notes.txt", `${sub}/readme`, "zz/0123456789012345678901234567890123456789"];
  await Deno.mkdir(`${dir.path}/zz`);
  for (const name of foreign) await Deno.writeTextFile(`${dir.path}/${name}`, "keep me");
  const stale = `${dir.path}/${sub}/.tmp-stale`;
  const fresh = `${dir.path}/${sub}/.tmp-fresh`;
  await Deno.writeTextFile(stale, "x");
  await Deno.writeTextFile(fresh, "x");
  const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
  await Deno.utime(stale, old, old);
  const result = await cache.evict(0);
  assert.deepEqual(result, { entries: 1, bytes: 2000, totalBytes: 0 });
  assert.deepEqual(
    await listFiles(dir.path),
    ["CACHEDIR.TAG", ...foreign, `${sub}/.tmp-fresh`].sort(),
  );
});

Deno.test("BlobCache stays correct with several processes storing, reading and evicting at once", async () => {
  await using dir = await tempDir();
  const blobs = hammerBlobs();
  const total = blobs.reduce((n, b) => n + b.data.length, 0);
  const maxBytes = Math.floor(total * 0.6);
  const hammer = new URL("./blob_cache_hammer.ts", import.meta.url).pathname;
  const children = Array.from({ length: 4 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", hammer, dir.path, String(maxBytes), String(i + 1), "300"],
      stdout: "piped",
      stderr: "piped",
    }).output());
  const results = await Promise.all(children);
  let hits = 0;
  let stored = 0;
  let discarded = 0;
  for (const result of results) {
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `a child saw wrong data or failed: ${stderr}`);
    const report = JSON.parse(new TextDecoder().decode(result.stdout));
    hits += report.hits;
    stored += report.stored;
    discarded += report.discarded;
  }
  assert.equal(discarded, 0, "no reader ever saw a partial entry (stores are atomic)");
  assert.ok(
    hits > 20 && stored > 20,
    `the children raced for real: ${hits} hits, ${stored} stored`,
  );
  // Whatever is left is whole and correct, and no temporary file survived.
  const byHash = new Map(blobs.map((b) => [b.hashHex, b.data]));
  for (const name of await listFiles(dir.path)) {
    if (name === "CACHEDIR.TAG" || !name.includes("/")) continue;
    assert.ok(!name.includes(".tmp-"), `left-over temporary ${name}`);
    const hashHex = name.replace("/", "");
    const data = await Deno.readFile(`${dir.path}/${name}`);
    assert.equal(createHash("sha1").update(data).digest("hex"), hashHex);
    assert.ok(byHash.has(hashHex));
  }
});

Deno.test("BlobCache.open() fails with a clear message when the directory cannot be made", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/file`, "x");
  await assert.rejects(
    BlobCache.open(`${dir.path}/file/cache`),
    (error: unknown) =>
      error instanceof WimkitError && error.code === "io" &&
      error.message.startsWith(`Cannot use cache directory "${dir.path}/file/cache": `),
  );
});

Deno.test("parseByteSize() reads GNU-style sizes and rejects others", () => {
  assert.equal(parseByteSize("10G"), 10 * 2 ** 30);
  assert.equal(parseByteSize("10g"), 10 * 2 ** 30);
  assert.equal(parseByteSize("500MiB"), 500 * 2 ** 20);
  assert.equal(parseByteSize("1.5GiB"), 1.5 * 2 ** 30);
  assert.equal(parseByteSize("3KB"), 3000);
  assert.equal(parseByteSize("1T"), 2 ** 40);
  assert.equal(parseByteSize("123"), 123);
  assert.equal(parseByteSize("123B"), 123);
  assert.equal(parseByteSize(" 0 "), 0);
  for (const bad of ["", "G", "-1G", "10X", "1e3", "10iB", "1.2.3M", "99999999999P"]) {
    assert.throws(
      () => parseByteSize(bad),
      (error: unknown) => error instanceof WimkitError && error.code === "usage",
      bad,
    );
  }
});
