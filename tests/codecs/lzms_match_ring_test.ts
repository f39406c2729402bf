import assert from "node:assert/strict";
import { InlineChunkPool, WorkerChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { LzmsDecompressor } from "../../lib/codecs/lzms_decompress.ts";
import { LZMS_MATCH_WINDOW_BYTES } from "../../lib/codecs/lzms_match_finder.ts";
import { createMatchRing } from "../../lib/codecs/lzms_match_ring.ts";
import type { WorkerRequest, WorkerResponse } from "../../lib/codecs/chunk_worker.ts";
import { hasLibwim, libwimDecompress } from "../support/libwim.ts";

const LIBWIM = hasLibwim();

/** Deterministic bytes that do not compress. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * A chunk larger than the match window whose last block repeats its first from farther away than
 * the tree searches: only the long-distance finder can see the repeat. Between them, text.
 */
function farRepeatChunk(): { chunk: Uint8Array; block: number } {
  const block = 256 << 10;
  const size = LZMS_MATCH_WINDOW_BYTES + 2 * block + (64 << 10);
  const chunk = new Uint8Array(size);
  const head = noise(block, 7);
  chunk.set(head, 0);
  const text = new TextEncoder().encode(
    Array.from({ length: 4000 }, (_, i) => `line ${i * 7919 % 10007}: ${"wimkit ".repeat(i % 9)}\n`)
      .join(""),
  );
  for (let at = block; at < size - block; at += text.length) {
    chunk.set(text.subarray(0, Math.min(text.length, size - block - at)), at);
  }
  chunk.set(head, size - block);
  return { chunk, block };
}

/** Encodes `data` as one LZMS chunk on `pool`, in shared memory when the pool offers it. */
async function encodeOne(pool: WorkerChunkPool | InlineChunkPool, data: Uint8Array) {
  const input = pool.buffer(data.length, true);
  input.set(data);
  const result = await pool.encode({
    codec: "lzms",
    chunkSize: 64 << 20,
    level: 0,
    input,
    sizes: Uint32Array.of(data.length),
  });
  return { input, stored: result.storedSizes[0]!, output: result.output.slice() };
}

Deno.test("a large LZMS chunk coded by two workers sharing it equals one worker's, and decodes", async () => {
  const { chunk, block } = farRepeatChunk();
  using pair = new WorkerChunkPool(2);
  using inline = new InlineChunkPool();
  const shared = await encodeOne(pair, chunk);
  assert.ok(shared.input.buffer instanceof SharedArrayBuffer, "the pool shares large chunks");
  const alone = await encodeOne(inline, chunk);
  assert.equal(shared.stored, alone.stored);
  assert.deepEqual(shared.output, alone.output);
  // The far repeat costs next to nothing: it is found beyond the tree's window.
  assert.ok(shared.stored < block + (64 << 10), `stored ${shared.stored} bytes`);
  const decoded = new Uint8Array(chunk.length);
  new LzmsDecompressor().decompress(shared.output, decoded);
  assert.deepEqual(decoded, chunk);
  if (LIBWIM) {
    assert.deepEqual(libwimDecompress("lzms", shared.output, chunk.length), chunk);
  }
});

Deno.test("a shared LZMS chunk that does not shrink is stored raw, its input restored", async () => {
  const data = noise(LZMS_MATCH_WINDOW_BYTES + 4096, 99);
  // x86 opcodes every few bytes, so the in-place filter changes the chunk and must be undone.
  for (let i = 0; i < data.length; i += 61) data[i] = 0xe8;
  using pair = new WorkerChunkPool(2);
  const { input, stored, output } = await encodeOne(pair, data);
  assert.equal(stored, data.length);
  assert.deepEqual(output, data);
  assert.deepEqual(input, data);
});

Deno.test("shared LZMS chunks queued back to back on two workers all finish", async () => {
  const chunks = [0, 1, 2].map((seed) => {
    const chunk = noise(5 << 20, seed + 1);
    chunk.fill(seed, 1 << 20, 4 << 20);
    return chunk;
  });
  using pair = new WorkerChunkPool(2);
  const jobs = chunks.map((chunk) => encodeOne(pair, chunk));
  const results = await Promise.all(jobs);
  results.forEach(({ stored, output }, i) => {
    assert.ok(stored < chunks[i]!.length);
    const decoded = new Uint8Array(chunks[i]!.length);
    new LzmsDecompressor().decompress(output, decoded);
    assert.deepEqual(decoded, chunks[i]);
  });
});

Deno.test("a shared LZMS job whose encoder fails ends its match finder too, not a hang", async () => {
  const url = new URL("../../lib/codecs/chunk_worker.ts", import.meta.url);
  const finder = new Worker(url, { type: "module" });
  const encoder = new Worker(url, { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Enough positions to fill the ring many times over: the finder must wait for the encoder.
    const input = new Uint8Array(new SharedArrayBuffer(2 << 20));
    input.set(noise(input.length, 5));
    const matchRing = createMatchRing();
    const answer = (worker: Worker) =>
      new Promise<WorkerResponse>((resolve) => {
        worker.onmessage = (event: MessageEvent<WorkerResponse>) => resolve(event.data);
      });
    const answers = Promise.all([answer(finder), answer(encoder)]);
    const find: WorkerRequest = {
      id: 1,
      kind: "find-matches",
      job: { input, matchRing, level: 0 },
    };
    // Two chunk sizes: the encoder rejects the job before reading a single match.
    const encode: WorkerRequest = {
      id: 2,
      kind: "encode",
      job: {
        codec: "lzms",
        chunkSize: 64 << 20,
        level: 0,
        input,
        sizes: Uint32Array.of(1 << 20, 1 << 20),
        matchRing,
      },
    };
    finder.postMessage(find);
    encoder.postMessage(encode);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the two workers waited for each other")), 30_000);
    });
    const [found, encoded] = await Promise.race([answers, timeout]);
    assert.ok("error" in encoded && /one LZMS chunk/.test(encoded.error));
    assert.ok(!("error" in found));
  } finally {
    clearTimeout(timer);
    finder.terminate();
    encoder.terminate();
  }
});
