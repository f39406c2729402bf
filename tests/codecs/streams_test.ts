/**
 * The DecompressionStream-shaped classes: framed data made from wimlib-compressed chunks decodes
 * to the original under any input chunking, and corrupt frames error the readable side.
 */

import assert from "node:assert/strict";
import {
  CodecError,
  LzmsCompressionStream,
  LzmsDecompressionStream,
  LzxCompressionStream,
  LzxDecompressionStream,
  WorkerChunkPool,
  XpressCompressionStream,
  XpressDecompressionStream,
} from "@wimkit/wimkit";
import {
  hasLibwim,
  type LibwimCodec,
  libwimCompress,
  libwimDecompress,
} from "../support/libwim.ts";
import { makeBytes } from "../support/trees.ts";

const CHUNK = 32768;
const STREAMS = {
  xpress: XpressDecompressionStream,
  lzx: LzxDecompressionStream,
  lzms: LzmsDecompressionStream,
} as const;

/** Frames `data` as framing.ts describes, compressing each chunk with wimlib. */
function frame(codec: LibwimCodec, data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0, 0x80, 0, 0)];
  for (let pos = 0; pos < data.length; pos += CHUNK) {
    const chunk = data.subarray(pos, pos + CHUNK);
    const compressed = libwimCompress(codec, chunk, { maxBlockSize: CHUNK }) ?? chunk;
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, chunk.length, true);
    new DataView(header.buffer).setUint32(4, compressed.length, true);
    parts.push(header, compressed);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** Cuts `bytes` into pieces whose sizes cycle through `pattern`. */
function split(bytes: Uint8Array, pattern: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = pattern[i % pattern.length]!;
    pieces.push(bytes.slice(pos, pos + size));
    pos += size;
  }
  return pieces;
}

async function decode(codec: keyof typeof STREAMS, pieces: Uint8Array[]): Promise<Uint8Array> {
  const stream = ReadableStream.from(pieces).pipeThrough(new STREAMS[codec]());
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const DATA = new Uint8Array([
  ...makeBytes("x86", 70000, 1),
  ...makeBytes("random", 5000, 2),
  ...makeBytes("text", 20000, 3),
]);

for (const codec of ["xpress", "lzx", "lzms"] as const) {
  Deno.test({
    name: `${STREAMS[codec].name} decodes wimlib chunks under hostile input chunking`,
    ignore: !hasLibwim(),
    async fn() {
      const framed = frame(codec, DATA);
      for (
        const pattern of [[1], [2], [3], [5], [8], [13], [1, 2, 3, 5], [8, 1, 4, 2], [
          framed.length,
        ], [4096, 7]]
      ) {
        assert.deepEqual(await decode(codec, split(framed, pattern)), DATA, `pattern ${pattern}`);
      }
    },
  });

  Deno.test({
    name: `${STREAMS[codec].name} errors with CodecError on a truncated or corrupt stream`,
    ignore: !hasLibwim(),
    async fn() {
      const framed = frame(codec, DATA);
      await assert.rejects(decode(codec, [framed.subarray(0, framed.length - 3)]), CodecError);
      const corrupt = framed.slice();
      corrupt[4] = 0xff; // first frame's uncompressed size becomes larger than the chunk size
      corrupt[5] = 0xff;
      await assert.rejects(decode(codec, [corrupt]), CodecError);
    },
  });
}

const COMPRESSORS = {
  xpress: XpressCompressionStream,
  lzx: LzxCompressionStream,
  lzms: LzmsCompressionStream,
} as const;

/** Splits framed bytes into [uncompressed size, stored bytes] frames. */
function frames(framed: Uint8Array): [number, Uint8Array][] {
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
  const out: [number, Uint8Array][] = [];
  for (let pos = 4; pos < framed.length;) {
    const size = view.getUint32(pos, true);
    const stored = view.getUint32(pos + 4, true);
    out.push([size, framed.subarray(pos + 8, pos + 8 + stored)]);
    pos += 8 + stored;
  }
  return out;
}

for (const codec of ["xpress", "lzx", "lzms"] as const) {
  Deno.test({
    name: `${
      COMPRESSORS[codec].name
    } output is the same for 1 and 2 workers and decodes with wimkit and wimlib`,
    ignore: !hasLibwim(),
    async fn() {
      const compress = async (pool?: WorkerChunkPool) => {
        const stream = ReadableStream.from(split(DATA, [7000, 13])).pipeThrough(
          new COMPRESSORS[codec](pool ? { pool } : {}),
        );
        return new Uint8Array(await new Response(stream).arrayBuffer());
      };
      const inline = await compress();
      using one = new WorkerChunkPool(1);
      using two = new WorkerChunkPool(2);
      assert.deepEqual(await compress(one), inline);
      assert.deepEqual(await compress(two), inline);
      assert.deepEqual(await decode(codec, [inline]), DATA);
      const parts = frames(inline).map(([size, stored]) =>
        stored.length === size ? stored : libwimDecompress(codec, stored, size, CHUNK)!
      );
      assert.deepEqual(new Uint8Array(parts.flatMap((p) => [...p])), DATA);
    },
  });
}
