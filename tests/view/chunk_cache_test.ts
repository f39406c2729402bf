/** The decoded-chunk LRU behind ranged reads: bounded in bytes, in-flight entries kept. */

import assert from "node:assert/strict";
import { ChunkCache } from "../../lib/wim/chunk_cache.ts";

Deno.test("ChunkCache evicts least recently used settled chunks beyond its bound", async () => {
  const cache = new ChunkCache(10);
  await cache.add("a", Promise.resolve(new Uint8Array(4)), 4);
  await cache.add("b", Promise.resolve(new Uint8Array(4)), 4);
  cache.get("a");
  await cache.add("c", Promise.resolve(new Uint8Array(4)), 4);
  assert.equal(cache.has("b"), false, "b was the least recently used");
  assert.equal(cache.has("a"), true);
  assert.equal(cache.has("c"), true);
  assert.equal(cache.bytes, 8);
});

Deno.test("ChunkCache keeps chunks still decoding and drops failed ones", async () => {
  const cache = new ChunkCache(4);
  let finish!: (bytes: Uint8Array) => void;
  const slow = cache.add("slow", new Promise((resolve) => (finish = resolve)), 8);
  await cache.add("x", Promise.resolve(new Uint8Array(2)), 2);
  assert.equal(cache.has("slow"), true, "in flight: never evicted");
  assert.equal(cache.inflightBytes, 8);
  finish(new Uint8Array(8));
  assert.equal((await slow).length, 8);
  await Promise.resolve();
  assert.ok(cache.bytes <= 4, `bound restored once settled (${cache.bytes})`);
  const failed = cache.add("bad", Promise.reject(new Error("corrupt")), 1);
  await assert.rejects(failed, /corrupt/);
  await Promise.resolve();
  assert.equal(cache.has("bad"), false, "a failed decode is retried by the next reader");
});
