/**
 * Chunk tables: 4-byte entries below 4 GiB, 8-byte entries above (wim-format.md §4.2); a
 * synthesized table for the unit test and a real >4 GiB resource made by wimlib for the slow one.
 */

import assert from "node:assert/strict";
import { verifyWim, Wim, WimFormatError } from "@wimkit/wimkit";
import type { ByteSource } from "../../lib/io/byte_source.ts";
import { readChunkLayout } from "../../lib/wim/blob_location.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

/** An in-memory source whose bytes are all zero except `bytes` at `offset`. */
function sparseSource(size: number, offset: number, bytes: Uint8Array): ByteSource {
  return {
    name: "memory",
    size,
    read(at: number, length: number) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const pos = at + i - offset;
        if (pos >= 0 && pos < bytes.length) out[i] = bytes[pos]!;
      }
      return Promise.resolve(out);
    },
    close() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

Deno.test("readChunkLayout() reads 8-byte entries for resources over 4 GiB", async () => {
  const originalSize = 2 ** 32 + 100;
  const chunkSize = 1 << 21;
  const count = Math.ceil(originalSize / chunkSize);
  const table = new Uint8Array((count - 1) * 8);
  const view = new DataView(table.buffer);
  for (let i = 1; i < count; i++) view.setBigUint64((i - 1) * 8, BigInt(i * 1000), true);
  const sizeInWim = table.length + count * 1000;
  const source = sparseSource(1000 + sizeInWim, 1000, table);
  const layout = await readChunkLayout(
    source,
    { offset: 1000, sizeInWim, originalSize, flags: 4 },
    "lzx",
    chunkSize,
  );
  assert.equal(layout.bounds.length, count + 1);
  assert.equal(layout.bounds[0], 1000 + table.length);
  assert.equal(layout.bounds[5]! - layout.bounds[4]!, 1000);
  assert.equal(layout.bounds[count], 1000 + sizeInWim);
});

Deno.test("readChunkLayout() rejects entries that go backwards or past the resource", async () => {
  const table = new Uint8Array(8);
  const view = new DataView(table.buffer);
  view.setUint32(0, 500, true);
  view.setUint32(4, 400, true);
  const source = sparseSource(10000, 0, table);
  await assert.rejects(
    readChunkLayout(
      source,
      { offset: 0, sizeInWim: 2000, originalSize: 3 * 32768, flags: 4 },
      "lzx",
      32768,
    ),
    WimFormatError,
  );
});

Deno.test({
  name: "verifyWim() reads a >4 GiB resource (8-byte chunk table) made by wimlib-imagex",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    const big = await Deno.open(`${work.path}/src/sparse.bin`, { write: true, create: true });
    await big.truncate(2 ** 32 + 100000);
    await big.seek(0, Deno.SeekMode.End);
    await big.write(new TextEncoder().encode("tail"));
    big.close();
    await wimlib("capture", `${work.path}/src`, `${work.path}/big.wim`, "--compress=xpress");
    await using wim = await Wim.open(`${work.path}/big.wim`);
    const [blob] = wim.blobs();
    assert.ok(blob && blob.size > 2 ** 32);
    const report = await verifyWim(wim);
    assert.equal(report.bytes, 2 ** 32 + 100004);
  },
});
