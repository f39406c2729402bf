/** Blobs shared by the blob cache tests and their child processes. */

import { createHash } from "node:crypto";
import { makeBytes } from "../support/trees.ts";

/** A blob: its bytes and SHA-1. */
export interface TestBlob {
  data: Uint8Array;
  hashHex: string;
}

/** Makes a blob of `size` pseudo-random bytes from `seed`. */
export function testBlob(size: number, seed: number): TestBlob {
  const data = makeBytes("random", size, seed);
  return { data, hashHex: createHash("sha1").update(data).digest("hex") };
}

/** The blobs the concurrency test hammers: small ones and two over the in-memory limit (8 MiB). */
export function hammerBlobs(): TestBlob[] {
  const blobs: TestBlob[] = [];
  for (let i = 0; i < 24; i++) blobs.push(testBlob(1000 + i * 7919, 100 + i));
  blobs.push(testBlob((8 << 20) + 12345, 7), testBlob((9 << 20) + 1, 8));
  return blobs;
}
