/**
 * Pipable WIMs in the library: the stream reader keeps memory bounded and checks what it reads,
 * the pipe writer writes strictly in order, and a pipable file without its final header is
 * refused.
 */

import assert from "node:assert/strict";
import {
  applyPipableStream,
  createWim,
  scanTree,
  verifyWim,
  Wim,
  WimFormatError,
  WimkitError,
  writePipableWim,
} from "@wimkit/wimkit";
import { InlineChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { PipeSource } from "../../lib/io/pipe_source.ts";
import { PipableStream } from "../../lib/wim/pipable_stream.ts";
import { makeBytes } from "../support/trees.ts";
import { tempDir } from "../support/wimlib.ts";

const BIG_BYTES = 24 << 20;

/** A pull-only stream over `bytes` in 64 KiB pieces that counts what was pulled. */
function countingStream(
  bytes: Uint8Array,
): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let pos = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pos >= bytes.length) return controller.close();
      const end = Math.min(bytes.length, pos + 65536);
      controller.enqueue(bytes.slice(pos, end));
      pos = end;
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pos };
}

async function pipableWithBigFile(
  dir: string,
  compression: "none" | "xpress",
): Promise<{ bytes: Uint8Array; hash: string }> {
  const src = `${dir}/src_${compression}`;
  await Deno.mkdir(src);
  const data = makeBytes("text", BIG_BYTES, 3);
  await Deno.writeFile(`${src}/big.bin`, data);
  const { root } = await scanTree(src);
  const path = `${dir}/${compression}.wim`;
  await createWim(path, [{ root, name: "big" }], { compression, pipable: true });
  await using wim = await Wim.open(path);
  const hash = wim.blobs().find((blob) => blob.size === BIG_BYTES)!.hashHex;
  return { bytes: await Deno.readFile(path), hash };
}

for (const compression of ["none", "xpress"] as const) {
  Deno.test(`PipableStream.readBlobs() reads a ${compression} blob larger than its buffers as it streams`, async () => {
    await using work = await tempDir();
    const { bytes, hash } = await pipableWithBigFile(work.path, compression);
    const { stream, pulled } = countingStream(bytes);
    const pool = new InlineChunkPool();
    const wim = await PipableStream.open(new PipeSource(stream, "test stream"));
    await wim.readMetadata(1, pool);
    const pieces = wim.readBlobs(new Set([hash]), pool);
    const first = await pieces.next();
    assert.ok(!first.done && first.value.blob.size === BIG_BYTES);
    // Only a few MiB were taken from the stream for the first piece of a 24 MiB blob.
    assert.ok(pulled() < 8 << 20, `pulled ${pulled()} bytes`);
    let total = first.done ? 0 : first.value.data.length;
    for await (const piece of pieces) total += piece.data.length;
    assert.equal(total, BIG_BYTES);
    assert.equal(pulled(), bytes.length);
  });
}

Deno.test("applyPipableStream() rejects file data whose SHA-1 does not match", async () => {
  await using work = await tempDir();
  const { bytes } = await pipableWithBigFile(work.path, "none");
  const corrupt = bytes.slice();
  corrupt[corrupt.length >> 1]! ^= 0xff;
  await assert.rejects(
    applyPipableStream(countingStream(corrupt).stream, undefined, `${work.path}/out`),
    (error) => {
      assert.ok(error instanceof WimkitError);
      assert.equal(error.code, "integrity");
      assert.match(error.message, /"\/big\.bin" has SHA-1 [0-9a-f]{40}, expected/);
      return true;
    },
  );
});

Deno.test("applyPipableStream() names a blob that is missing from the stream", async () => {
  await using work = await tempDir();
  const { bytes } = await pipableWithBigFile(work.path, "none");
  // Drop the big blob: its blob header sits right after the metadata; keep what follows it.
  const wim = await PipableStream.open(new PipeSource(countingStream(bytes).stream, "s"));
  assert.equal(wim.header.imageCount, 1);
  const headerAt = findBlobHeader(bytes, BIG_BYTES);
  const dropped = new Uint8Array(bytes.length - 40 - BIG_BYTES);
  dropped.set(bytes.subarray(0, headerAt));
  dropped.set(bytes.subarray(headerAt + 40 + BIG_BYTES), headerAt);
  await assert.rejects(
    applyPipableStream(countingStream(dropped).stream, 1, `${work.path}/out`),
    /is missing from the stream/,
  );
});

Deno.test("writePipableWim() writes in order to a pipe, and the result opens and verifies", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  await Deno.writeTextFile(`${src}/a.txt`, "pipable\n".repeat(10000));
  await Deno.writeFile(`${src}/b.bin`, makeBytes("random", 100000, 5));
  const { root } = await scanTree(src);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  const writer = {
    writeSync(data: Uint8Array) {
      const n = Math.min(data.length, 4096); // a pipe takes part of a write at a time
      parts.push(data.slice(0, n));
      return n;
    },
  };
  const report = await writePipableWim(writer, [{ root, name: "one" }], { compression: "lzx" });
  const path = `${work.path}/out.wim`;
  await Deno.writeFile(path, new Uint8Array(await new Blob(parts).arrayBuffer()));
  assert.equal((await Deno.stat(path)).size, report.sizeBytes);
  await using wim = await Wim.open(path);
  assert.equal(wim.header.pipable, true);
  await verifyWim(wim);
  await assert.rejects(
    writePipableWim(writer, [{ root, name: "one" }], { solid: true }),
    /cannot be solid/,
  );
});

Deno.test("Wim.open() refuses a pipable WIM that lacks its final header", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  await Deno.writeTextFile(`${src}/a.txt`, "x");
  const { root } = await scanTree(src);
  const path = `${work.path}/p.wim`;
  await createWim(path, [{ root, name: "one" }], { pipable: true });
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 208));
  await assert.rejects(Wim.open(path), (error) => {
    assert.ok(error instanceof WimFormatError);
    assert.match(error.message, /incomplete pipable WIM/);
    return true;
  });
});

/** Offset of the pipable blob header announcing a blob of `size` bytes. */
function findBlobHeader(bytes: Uint8Array, size: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 208; i + 40 <= bytes.length; i++) {
    if (
      view.getBigUint64(i, true) === 0x2b9b9ba2443db9d8n &&
      view.getBigUint64(i + 8, true) === BigInt(size)
    ) return i;
  }
  throw new Error("no such blob header");
}
