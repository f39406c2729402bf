/**
 * What `info -` shows about a pipable WIM arriving on a stream: the stream is read once to its
 * end, every resource skipped without decoding (memory stays bounded: at most one piece of the
 * stream plus the XML, itself bounded by `MAX_XML_BYTES`), and the final header and XML at the
 * end give the same facts `info FILE` prints.
 */

import type { CompressionType } from "../codecs/codec.ts";
import { WimFormatError } from "../errors.ts";
import { headerCompression, type WimHeader } from "../format/header.ts";
import type { ImageXmlInfo } from "../format/xml_info.ts";
import { PipeSource } from "../io/pipe_source.ts";
import { PipableStream } from "./pipable_stream.ts";

/** What a pipable WIM stream holds, read from its final header and XML. */
export interface PipableWimInfo {
  /** Name of the stream in messages ("standard input"). */
  readonly name: string;
  /** The final header (the complete one; the first header's table pointers are zero). */
  readonly header: WimHeader;
  /** Compression type of the resources. */
  readonly compression: CompressionType;
  /** Chunk size of compressed resources (0 when uncompressed). */
  readonly chunkSize: number;
  /** Number of images. */
  readonly imageCount: number;
  /** 1-based bootable image, 0 for none. */
  readonly bootIndex: number;
  /** XML information of every image, in index order. */
  readonly images: ImageXmlInfo[];
  /** The final XML document, as `info --xml` prints it. */
  readonly xmlText: string;
  /** Bytes the stream held. */
  readonly streamBytes: number;
}

/**
 * Reads a pipable WIM from `stream` to its end and returns what `info` shows about it.
 *
 * @param stream The WIM, e.g. `Deno.stdin.readable`; read once, to its end.
 * @param options `name`: the stream in messages (default "standard input").
 * @throws {WimFormatError} If the stream is empty, not a pipable WIM, malformed or truncated.
 *
 * @example Read the images of a pipable WIM as a stream
 * ```ts
 * import { createWim, readPipableInfo, scanTree } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const { root } = await scanTree("examples/sample-tree");
 * const path = await Deno.makeTempFile();
 * await createWim(path, [{ root, name: "sample" }], { pipable: true, compression: "lzx" });
 * const file = await Deno.open(path);
 * const info = await readPipableInfo(file.readable);
 * assert.ok(info.imageCount === 1 && info.images[0]?.name === "sample");
 * assert.ok(info.compression === "lzx" && info.streamBytes === (await Deno.stat(path)).size);
 * await Deno.remove(path);
 * ```
 */
export async function readPipableInfo(
  stream: ReadableStream<Uint8Array>,
  options: { name?: string } = {},
): Promise<PipableWimInfo> {
  const source = new PipeSource(stream, options.name ?? "standard input");
  try {
    let wim: PipableStream;
    try {
      wim = await PipableStream.open(source);
    } catch (error) {
      if (error instanceof WimFormatError && !error.message.includes(source.name)) {
        throw error.rephrase(`${source.name} is not a pipable WIM: ${error.message}`);
      }
      throw error;
    }
    const { header, xml } = await wim.readToEnd();
    const compression = headerCompression(header);
    return {
      name: source.name,
      header,
      compression,
      chunkSize: header.chunkSize,
      imageCount: header.imageCount,
      bootIndex: header.bootIndex <= header.imageCount ? header.bootIndex : 0,
      images: xml.images(),
      xmlText: xml.toString(),
      streamBytes: source.position,
    };
  } finally {
    await source.cancel();
  }
}
