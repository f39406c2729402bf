/**
 * Reading order: blobs are read as they lie in the file, so each chunk of a solid resource is
 * decoded once, however the image's tree orders its files.
 */

import assert from "node:assert/strict";
import { applyImage, type ChunkPool, InlineChunkPool, verifyWim, Wim } from "@wimkit/wimkit";
import { compareLocation } from "../../lib/wim/blob_location.ts";
import type { BlobInfo } from "../../lib/wim/blob_location.ts";
import type { DecodeJob, EncodeJob } from "../../lib/codecs/chunk_job.ts";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

/** An inline pool that counts the chunks it decodes. */
class CountingPool implements ChunkPool {
  readonly concurrency = 1;
  readonly #inner = new InlineChunkPool();
  chunks = 0;
  decode(job: DecodeJob) {
    this.chunks += job.chunks.length / 3;
    return this.#inner.decode(job);
  }
  encode(job: EncodeJob) {
    return this.#inner.encode(job);
  }
  buffer(size: number) {
    return this.#inner.buffer(size);
  }
  release(bytes: Uint8Array) {
    this.#inner.release(bytes);
  }
  [Symbol.dispose]() {}
}

Deno.test("compareLocation() orders blobs inside a solid resource by offset, whatever the part", () => {
  const solid = { fileOffset: 123456789 } as never;
  const blob = (partNumber: number, offset: number) =>
    ({ partNumber, location: { kind: "solid", solid, offset } }) as unknown as BlobInfo;
  const blobs = [blob(3, 300), blob(3, 100), blob(3, 200), blob(1, 5)];
  const sorted = blobs.sort(compareLocation).map((b) =>
    `${b.partNumber}:${(b.location as { offset: number }).offset}`
  );
  assert.deepEqual(sorted, ["1:5", "3:100", "3:200", "3:300"]);
});

Deno.test({
  name: "applyImage() decodes each solid chunk once",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await Deno.mkdir(`${work.path}/src`);
    await makeTree(`${work.path}/src`);
    await wimlib(
      "capture",
      `${work.path}/src`,
      `${work.path}/s.wim`,
      "--solid",
      "--solid-chunk-size=32768",
    );
    await using wim = await Wim.open(`${work.path}/s.wim`);
    const verifying = new CountingPool();
    await verifyWim(wim, { pool: verifying });
    const applying = new CountingPool();
    await applyImage(wim, 1, `${work.path}/out`, { pool: applying });
    assert.ok(
      verifying.chunks > 10,
      `only ${verifying.chunks} chunks: the test needs a multi-chunk resource`,
    );
    assert.ok(
      applying.chunks <= verifying.chunks,
      `${applying.chunks} chunks decoded for ${verifying.chunks}`,
    );
  },
});
