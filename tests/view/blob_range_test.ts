/**
 * Ranged blob reads against WIMs made by wimlib-imagex: every compression (and solid), reads at
 * and across chunk boundaries, and a count of decoded chunks showing a small read in a large file
 * decodes only the chunks it touches.
 */

import assert from "node:assert/strict";
import { InlineChunkPool, WorkerChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { BlobRangeReader } from "../../lib/wim/blob_range.ts";
import { Wim } from "../../lib/wim/wim.ts";
import { WimkitError } from "../../lib/errors.ts";
import { makeBytes } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";
import { createHash } from "node:crypto";

const FILE_BYTES = 300_000;
const OFFSETS = [0, 1, 32767, 32768, 32769, 65535, 65536, 131071, 131072, 131073, 299_999];
const LENGTHS = [1, 2, 4096, 32768, 65537, 200_000];

function sha1(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

for (
  const [label, args] of [
    ["none", ["--compress=none"]],
    ["xpress", ["--compress=xpress"]],
    ["lzx", ["--compress=lzx"]],
    ["lzms", ["--compress=lzms"]],
    ["solid lzms", ["--solid"]],
    ["solid xpress 64 KiB chunks", [
      "--solid",
      "--solid-compress=xpress",
      "--solid-chunk-size=65536",
    ]],
  ] as const
) {
  Deno.test({
    name: `BlobRangeReader reads ranges at chunk boundaries (${label})`,
    ignore: !hasWimlib,
    async fn() {
      await using work = await tempDir();
      await Deno.mkdir(`${work.path}/src`);
      const data = new Uint8Array([
        ...makeBytes("x86", FILE_BYTES / 2, 11),
        ...makeBytes("random", FILE_BYTES / 2, 12),
      ]);
      const other = makeBytes("text", 70_000, 13);
      await Deno.writeFile(`${work.path}/src/a.bin`, data);
      await Deno.writeFile(`${work.path}/src/b.txt`, other);
      await wimlib("capture", `${work.path}/src`, `${work.path}/t.wim`, ...args);
      using pool = new WorkerChunkPool(2);
      await using wim = await Wim.open(`${work.path}/t.wim`, { pool });
      const blob = wim.blob(sha1(data))!;
      assert.ok(blob, "the blob is in the WIM");
      const reader = new BlobRangeReader(pool, { cacheBytes: 1 << 20 });
      for (const offset of OFFSETS) {
        for (const length of LENGTHS) {
          const got = await reader.read(blob, offset, length);
          const want = data.subarray(offset, Math.min(data.length, offset + length));
          assert.equal(sha1(got), sha1(want), `offset ${offset} length ${length}`);
        }
      }
      assert.equal((await reader.read(blob, FILE_BYTES, 10)).length, 0, "at the end: empty");
      const streamed = new Uint8Array(
        await new Response(reader.stream(blob, 32767, 200_001)).arrayBuffer(),
      );
      assert.equal(sha1(streamed), sha1(data.subarray(32767, 200_001)));
      const whole = new Uint8Array(await new Response(reader.stream(blob)).arrayBuffer());
      assert.equal(sha1(whole), blob.hashHex);
      const otherBlob = wim.blob(sha1(other))!;
      assert.deepEqual(await reader.read(otherBlob, 69_990, 100), other.subarray(69_990));
      // Concurrent readers of the same chunks get the same bytes.
      const fresh = new BlobRangeReader(pool);
      const many = await Promise.all(OFFSETS.map((offset) => fresh.read(blob, offset, 5000)));
      for (const [i, offset] of OFFSETS.entries()) {
        assert.deepEqual(many[i], data.subarray(offset, offset + 5000));
      }
    },
  });
}

Deno.test({
  name: "BlobRangeReader decodes only the chunks a read touches, each once (lzx)",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    const data = makeBytes("x86", 1_000_000, 21);
    await Deno.writeFile(`${work.path}/src/a.bin`, data);
    await wimlib("capture", `${work.path}/src`, `${work.path}/t.wim`, "--compress=lzx");
    using pool = new InlineChunkPool();
    await using wim = await Wim.open(`${work.path}/t.wim`, { pool });
    const blob = wim.blob(sha1(data))!;
    const reader = new BlobRangeReader(pool);
    await reader.read(blob, 32768 * 10 + 100, 4096);
    assert.equal(reader.decodedChunks, 1, "one chunk for 4 KiB inside it");
    await reader.read(blob, 32768 * 10 + 5000, 4096);
    assert.equal(reader.decodedChunks, 1, "the cached chunk is not decoded again");
    await reader.read(blob, 32768 * 20 - 10, 20);
    assert.equal(reader.decodedChunks, 3, "a read across a boundary decodes both chunks");
    // Concurrent reads of one chunk share one decode.
    const concurrent = new BlobRangeReader(pool);
    const reads = await Promise.all(
      Array.from({ length: 10 }, (_, i) => concurrent.read(blob, 32768 * 5 + i * 1000, 500)),
    );
    assert.equal(concurrent.decodedChunks, 1);
    assert.deepEqual(reads[9], data.subarray(32768 * 5 + 9000, 32768 * 5 + 9500));
    // Sequential 128 KiB reads (as FUSE issues them) decode every chunk exactly once.
    const sequential = new BlobRangeReader(pool);
    const out = new Uint8Array(data.length);
    for (let offset = 0; offset < data.length; offset += 131072) {
      out.set(await sequential.read(blob, offset, 131072), offset);
    }
    assert.equal(sha1(out), blob.hashHex);
    assert.equal(sequential.decodedChunks, Math.ceil(data.length / 32768));
  },
});

Deno.test({
  name: "BlobRangeReader: 4 KiB in the middle of a 96 MiB LZX file decodes one chunk",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    const size = 96 << 20;
    // Tiles of x86-like data, each tile made unique by its index, so the file compresses fast.
    const tile = makeBytes("x86", 1 << 20, 31);
    const file = await Deno.open(`${work.path}/src/big.bin`, { write: true, create: true });
    for (let i = 0; i < size >> 20; i++) {
      tile[0] = i;
      await file.write(tile);
    }
    file.close();
    await wimlib("capture", `${work.path}/src`, `${work.path}/t.wim`, "--compress=lzx");
    using pool = new WorkerChunkPool(2);
    await using wim = await Wim.open(`${work.path}/t.wim`, { pool });
    const blob = wim.blobs().find((b) => b.size === size)!;
    const reader = new BlobRangeReader(pool);
    const offset = size / 2 + 1000;
    const bytes = await reader.read(blob, offset, 4096);
    tile[0] = Math.floor(offset / (1 << 20));
    assert.deepEqual(bytes, tile.subarray(1000, 1000 + 4096));
    assert.equal(reader.decodedChunks, 1, "only the chunk holding the range");
  },
});

Deno.test({
  name: "BlobRangeReader: a damaged resource fails the read with a wimkit error, not a crash",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    const data = makeBytes("x86", 200_000, 51);
    await Deno.writeFile(`${work.path}/src/a.bin`, data);
    const wimPath = `${work.path}/t.wim`;
    await wimlib("capture", `${work.path}/src`, wimPath, "--compress=lzx");
    {
      await using wim = await Wim.open(wimPath);
      const location = wim.blob(sha1(data))!.location;
      assert.equal(location.kind, "resource");
      const resource = location.kind === "resource" ? location.resource : undefined;
      const bytes = await Deno.readFile(wimPath);
      const middle = resource!.offset + Math.floor(resource!.sizeInWim / 2);
      for (let i = 0; i < 64; i++) bytes[middle + i] = (bytes[middle + i]! ^ 0x5a) & 0xff;
      await Deno.writeFile(wimPath, bytes);
    }
    using pool = new InlineChunkPool();
    await using wim = await Wim.open(wimPath, { pool });
    const blob = wim.blob(sha1(data))!;
    const reader = new BlobRangeReader(pool, { fileName: wimPath });
    await assert.rejects(
      new Response(reader.stream(blob)).arrayBuffer(),
      (error) =>
        error instanceof WimkitError && error.message.includes(blob.hashHex) &&
        (error.code === "codec" || error.code === "integrity"),
    );
  },
});
