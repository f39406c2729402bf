/**
 * The definition of done, end to end: a Range request for 4 KiB in the middle of a 1 GiB
 * file, served over WebDAV from a WIM made by wimlib-imagex, decompresses at most the chunks it
 * touches (counted by the view's imageViewStats). The file is sparse (zeros) with an island of
 * text around the middle, so capture stays fast (XPRESS, a few seconds) and the bytes read are not
 * all alike.
 */

import assert from "node:assert/strict";
import { imageViewStats } from "../../lib/view/image_view.ts";
import { makeBytes } from "../support/trees.ts";
import { hasWimlib } from "../support/wimlib.ts";
import { serveTestWim } from "./dav_support.ts";

const FILE_BYTES = 1 << 30;
const MIDDLE = FILE_BYTES / 2;
/** wimlib-imagex's default chunk size for XPRESS. */
const CHUNK_BYTES = 32768;
const ISLAND = makeBytes("text", 1 << 20, 5);
const ISLAND_START = MIDDLE - ISLAND.length / 2;

/** The file's bytes at `offset`: the island where it lies, zeros elsewhere. */
function fileBytes(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const from = Math.max(offset, ISLAND_START);
  const to = Math.min(offset + length, ISLAND_START + ISLAND.length);
  if (from < to) out.set(ISLAND.subarray(from - ISLAND_START, to - ISLAND_START), from - offset);
  return out;
}

Deno.test({
  name: "GET of 4 KiB in the middle of a 1 GiB file decodes only the chunks the range touches",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({
      compress: "XPRESS",
      fill: async (root) => {
        using file = await Deno.open(`${root}/big.bin`, { create: true, write: true });
        await file.truncate(FILE_BYTES);
        await file.seek(ISLAND_START, Deno.SeekMode.Start);
        let written = 0;
        while (written < ISLAND.length) written += await file.write(ISLAND.subarray(written));
      },
    });
    assert.equal(served.view.stat("/big.bin")?.size, FILE_BYTES);
    const decoded = () => imageViewStats(served.view)!.decodedChunks;
    const cases = [
      { label: "inside one chunk", start: MIDDLE + 12345, chunks: 1 },
      { label: "across a chunk boundary", start: MIDDLE + 3 * CHUNK_BYTES - 2048, chunks: 2 },
    ];
    for (const { label, start, chunks } of cases) {
      const end = start + 4095;
      const before = decoded();
      const response = await fetch(`${served.base}/big.bin`, {
        headers: { range: `bytes=${start}-${end}` },
      });
      assert.equal(response.status, 206, label);
      assert.equal(response.headers.get("content-range"), `bytes ${start}-${end}/${FILE_BYTES}`);
      const body = new Uint8Array(await response.arrayBuffer());
      assert.deepEqual(body, fileBytes(start, 4096), label);
      assert.ok(body.some((byte) => byte !== 0), "the range lies in the island of text");
      const used = decoded() - before;
      assert.ok(used <= 2, `${label}: ${used} chunks decoded`);
      assert.equal(used, chunks, label);
    }
  },
});
