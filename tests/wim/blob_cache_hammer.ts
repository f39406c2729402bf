/**
 * A child process for the concurrency test of `BlobCache`: stores, reads and evicts the same
 * blobs as its siblings in a random order, and exits 1 if a read ever returns wrong bytes.
 *
 * Usage: deno run -A blob_cache_hammer.ts CACHE_DIR MAX_BYTES SEED ROUNDS
 */

import { createHash } from "node:crypto";
import { BlobCache } from "../../lib/wim/blob_cache.ts";
import { hammerBlobs } from "./blob_cache_test_data.ts";

const [dir, maxText, seedText, roundsText] = Deno.args;
const cache = await BlobCache.open(dir!, { maxBytes: Number(maxText) });
const blobs = hammerBlobs();
let state = Number(seedText) >>> 0 || 1;
const random = () => {
  state = (state * 1103515245 + 12345) >>> 0;
  return state / 2 ** 32;
};
let wrong = 0;
let hits = 0;
for (let round = 0; round < Number(roundsText); round++) {
  const blob = blobs[Math.floor(random() * blobs.length)]!;
  const action = random();
  if (action < 0.45) await cache.put(blob.hashHex, blob.data);
  else if (action < 0.9) {
    const size = blob.data.length;
    const entry = await cache.open(blob.hashHex, size);
    if (entry) {
      const hash = createHash("sha1");
      let length = 0;
      for await (const piece of entry.pieces()) {
        hash.update(piece);
        length += piece.length;
      }
      entry[Symbol.dispose]();
      if (length !== size || hash.digest("hex") !== blob.hashHex) wrong++;
      else hits++;
    }
  } else await cache.evict(Math.floor(random() * Number(maxText)));
}
const stats = cache.stats;
Deno.stdout.writeSync(
  new TextEncoder().encode(
    JSON.stringify({ wrong, hits, stored: stats.stored, discarded: stats.discarded }) + "\n",
  ),
);
Deno.exit(wrong === 0 ? 0 : 1);
