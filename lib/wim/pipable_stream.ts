/**
 * Reads a pipable WIM from a non-seekable stream (standard input), front to back, as wimlib's
 * `wimapply -` does: the first header, the XML copy, every image's metadata resource, then file
 * blobs in the order they come, until the blob table; the rest is read to the end and the final
 * header checked, so a truncated stream is an error (wim-format.md §13).
 *
 * Memory stays bounded: compressed chunks are batched into jobs of about 1 MiB of output for the
 * chunk pool, a bounded number in flight; uncompressed blobs pass in 1 MiB pieces.
 */

import { createHash } from "node:crypto";
import { WimFormatError, WimIntegrityError, WimkitError } from "../errors.ts";
import { type ChunkPool, InlineChunkPool } from "../codecs/chunk_pool.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import { Limits, ResourceFlag, WIM_HEADER_SIZE, WIM_MAGIC } from "../format/constants.ts";
import { toHex, viewOf } from "../format/bytes.ts";
import {
  CHUNK_SIZE_LIMITS,
  headerCompression,
  parseHeader,
  type WimHeader,
} from "../format/header.ts";
import {
  parsePipableBlobHeader,
  PIPABLE_BLOB_HEADER_SIZE,
  PIPABLE_CHUNK_PREFIX_SIZE,
  type PipableBlobHeader,
} from "../format/pipable_blob_header.ts";
import { WimXml } from "../format/xml_info.ts";
import type { PipeSource } from "../io/pipe_source.ts";

/** Output bytes one decode job aims for. */
const JOB_TARGET_BYTES = 1 << 20;
/** Jobs in flight per worker. */
const JOBS_PER_WORKER = 3;
/** Blobs below this size decode on the calling thread (a worker round trip would cost more). */
const INLINE_BELOW_BYTES = 256 << 10;

/** A blob as the stream announces it. */
export interface StreamBlob {
  /** Lower-case hex SHA-1. */
  readonly hashHex: string;
  /** Uncompressed size. */
  readonly size: number;
}

/** A piece of a blob's data, in order; `data` is valid until the next piece is requested. */
export interface StreamPiece {
  /** The blob (one object for all its pieces). */
  readonly blob: StreamBlob;
  /** Offset of the piece within the blob. */
  readonly offset: number;
  /** The bytes. */
  readonly data: Uint8Array;
}

interface Slice {
  blob: StreamBlob;
  offset: number;
  size: number;
}

interface Pending {
  output: Promise<Uint8Array>;
  slices: Slice[];
  pooled: boolean;
}

/**
 * A pipable WIM being read from a stream; call {@linkcode PipableStream.readMetadata} once, then
 * {@linkcode PipableStream.readBlobs} once.
 *
 * @example
 * ```ts ignore
 * const wim = await PipableStream.open(new PipeSource(Deno.stdin.readable, "standard input"));
 * const metadata = await wim.readMetadata(1);
 * for await (const piece of wim.readBlobs(new Set([hash]), pool)) use(piece);
 * ```
 */
export class PipableStream {
  /** The first header (its table pointers are zero). */
  readonly header: WimHeader;
  /** The XML copy at the start (without top-level TOTALBYTES). */
  readonly xml: WimXml;
  readonly #source: PipeSource;
  readonly #codec: ChunkCodec | "none";
  readonly #inline = new InlineChunkPool();

  private constructor(source: PipeSource, header: WimHeader, xml: WimXml) {
    this.#source = source;
    this.header = header;
    this.xml = xml;
    this.#codec = headerCompression(header);
  }

  /** Name of the stream, for messages. */
  get name(): string {
    return this.#source.name;
  }

  /**
   * Reads the header and the XML copy.
   *
   * @throws {WimFormatError} If the stream is not a pipable WIM, or ends early.
   */
  static async open(source: PipeSource): Promise<PipableStream> {
    const first = await source.read(WIM_HEADER_SIZE, undefined, "the WIM header").catch((error) => {
      if (source.position !== 0 || !(error instanceof WimFormatError)) throw error;
      throw new WimFormatError(`${source.name} is empty: expected a pipable WIM`, { cause: error });
    });
    if (WIM_MAGIC.every((byte, i) => first[i] === byte)) {
      throw new WimFormatError(
        `${source.name} holds a WIM that is not pipable: only pipable WIMs (capture --pipable) can be read from a pipe; save it to a file first`,
      );
    }
    const header = parseHeader(first);
    if (!header.pipable) throw new WimFormatError(`${source.name} is not a pipable WIM`);
    const codec = headerCompression(header);
    if (codec !== "none") {
      const [min, max] = CHUNK_SIZE_LIMITS[codec];
      const size = header.chunkSize;
      if (size < min || size > max || (size & (size - 1)) !== 0) {
        throw new WimFormatError(`invalid chunk size ${size} for ${codec.toUpperCase()}`);
      }
    }
    const stream = new PipableStream(source, header, WimXml.create());
    const blob = await stream.#readBlobHeader("the XML data");
    if (!(blob.flags & ResourceFlag.METADATA) || blob.flags & ResourceFlag.COMPRESSED) {
      throw new WimFormatError(`${source.name}: the XML data is missing after the header`);
    }
    if (blob.size > Limits.MAX_XML_BYTES) {
      throw new WimFormatError(`XML data is ${blob.size} bytes, over ${Limits.MAX_XML_BYTES}`);
    }
    const xml = WimXml.parse(await source.read(blob.size, undefined, "the XML data"));
    if (xml.imageCount !== header.imageCount) {
      throw new WimFormatError(
        `header says ${header.imageCount} images but the XML data describes ${xml.imageCount}`,
      );
    }
    return new PipableStream(source, header, xml);
  }

  /**
   * Reads every image's metadata resource, returning that of image `index` (1-based), checked
   * against its SHA-1; the others are skipped.
   *
   * @throws {WimFormatError} If a metadata resource is missing or malformed.
   * @throws {WimIntegrityError} If its SHA-1 does not match.
   */
  async readMetadata(index: number, pool: ChunkPool): Promise<Uint8Array> {
    let wanted: Uint8Array | undefined;
    for (let image = 1; image <= this.header.imageCount; image++) {
      const what = `the metadata of image ${image}`;
      const blob = await this.#readBlobHeader(what);
      if (!(blob.flags & ResourceFlag.METADATA)) {
        throw new WimFormatError(`${this.name}: ${what} is missing`);
      }
      if (image !== index) {
        await this.#skipResource(blob, what);
        continue;
      }
      if (blob.size > Limits.MAX_METADATA_BYTES) {
        throw new WimFormatError(
          `metadata resource is ${blob.size} bytes, over ${Limits.MAX_METADATA_BYTES}`,
        );
      }
      const bytes = new Uint8Array(blob.size);
      for await (const piece of this.#pieces(blob, pool, what)) bytes.set(piece.data, piece.offset);
      const digest = createHash("sha1").update(bytes).digest("hex");
      if (digest !== blob.hashHex) {
        throw new WimIntegrityError(
          `metadata resource of image ${image} has SHA-1 ${digest}, expected ${blob.hashHex}`,
        );
      }
      wanted = bytes;
    }
    if (!wanted) throw new RangeError(`no image ${index}`);
    return wanted;
  }

  /**
   * Yields the data of the blobs in `wanted` (hex SHA-1s) as the stream brings them, skipping
   * the others; then reads the rest of the stream and checks its final header.
   *
   * @throws {WimkitError} If a wanted blob is not in the stream.
   * @throws {WimFormatError} If the stream is malformed or truncated.
   */
  async *readBlobs(
    wanted: ReadonlySet<string>,
    pool: ChunkPool,
    signal?: AbortSignal,
  ): AsyncGenerator<StreamPiece> {
    const missing = new Set(wanted);
    for (;;) {
      signal?.throwIfAborted();
      const blob = await this.#readBlobHeader("file data");
      if (blob.flags & ResourceFlag.METADATA) {
        // The blob table: file data has ended.
        await this.#source.skip(blob.size, "the blob table");
        break;
      }
      if (!missing.delete(blob.hashHex)) {
        await this.#skipResource(blob, `blob ${blob.hashHex}`);
        continue;
      }
      yield* this.#pieces(blob, pool, `blob ${blob.hashHex}`);
    }
    await this.#checkEnd();
    const first = missing.values().next();
    if (!first.done) {
      throw new WimkitError(
        `Cannot read ${this.name}: blob ${first.value} is missing from the stream (${missing.size} missing)`,
        "format",
      );
    }
  }

  /**
   * Reads the whole stream without decoding anything, for `info -`: every resource is skipped
   * except the final XML, which is returned with the final header (the one that knows the tables,
   * the boot index and the integrity table). Call it right after {@linkcode PipableStream.open},
   * instead of the other readers.
   *
   * @throws {WimFormatError} If the stream is malformed or truncated.
   */
  async readToEnd(): Promise<{ header: WimHeader; xml: WimXml }> {
    for (let image = 1; image <= this.header.imageCount; image++) {
      const what = `the metadata of image ${image}`;
      const blob = await this.#readBlobHeader(what);
      if (!(blob.flags & ResourceFlag.METADATA)) {
        throw new WimFormatError(`${this.name}: ${what} is missing`);
      }
      await this.#skipResource(blob, what);
    }
    for (;;) {
      const blob = await this.#readBlobHeader("file data");
      if (blob.flags & ResourceFlag.METADATA) {
        await this.#source.skip(blob.size, "the blob table");
        break;
      }
      await this.#skipResource(blob, `blob ${blob.hashHex}`);
    }
    const xmlBlob = await this.#readBlobHeader("the final XML data");
    if (!(xmlBlob.flags & ResourceFlag.METADATA) || xmlBlob.flags & ResourceFlag.COMPRESSED) {
      throw new WimFormatError(`${this.name}: the XML data is missing after the blob table`);
    }
    if (xmlBlob.size > Limits.MAX_XML_BYTES) {
      throw new WimFormatError(`XML data is ${xmlBlob.size} bytes, over ${Limits.MAX_XML_BYTES}`);
    }
    const xml = WimXml.parse(await this.#source.read(xmlBlob.size, undefined, "the XML data"));
    const header = await this.#checkEnd();
    if (xml.imageCount !== header.imageCount) {
      throw new WimFormatError(
        `header says ${header.imageCount} images but the XML data describes ${xml.imageCount}`,
      );
    }
    return { header, xml };
  }

  /** Reads the rest of the stream; its last 208 bytes must be this WIM's final header. */
  async #checkEnd(): Promise<WimHeader> {
    const tail = await this.#source.readToEnd(WIM_HEADER_SIZE);
    let last: WimHeader | undefined;
    try {
      last = tail.length === WIM_HEADER_SIZE ? parseHeader(tail) : undefined;
    } catch {
      last = undefined;
    }
    if (!last || !last.pipable || toHex(last.guid) !== toHex(this.header.guid)) {
      throw new WimFormatError(
        `${this.name} ended after ${this.#source.position} bytes without the final header (truncated stream?)`,
      );
    }
    return last;
  }

  async #readBlobHeader(what: string): Promise<PipableBlobHeader & StreamBlob> {
    const at = this.#source.position;
    const bytes = await this.#source.read(PIPABLE_BLOB_HEADER_SIZE, undefined, what);
    try {
      return parsePipableBlobHeader(bytes);
    } catch (error) {
      throw new WimFormatError(
        `${this.name}: no blob header at offset ${at}, where ${what} should start (corrupt stream?)`,
        { cause: error },
      );
    }
  }

  #chunked(blob: PipableBlobHeader): boolean {
    if (!(blob.flags & ResourceFlag.COMPRESSED)) return false;
    if (this.#codec === "none") {
      throw new WimFormatError(
        `blob ${blob.hashHex} is compressed but the WIM has no compression type`,
      );
    }
    return true;
  }

  async #skipResource(blob: PipableBlobHeader, what: string): Promise<void> {
    if (!this.#chunked(blob)) return await this.#source.skip(blob.size, what);
    const count = Math.ceil(blob.size / this.header.chunkSize);
    for (let i = 0; i < count; i++) {
      await this.#source.skip(await this.#readChunkSize(blob, i, count, what), what);
    }
    await this.#source.skip(tableBytes(blob.size, count), what);
  }

  async #readChunkSize(
    blob: PipableBlobHeader,
    index: number,
    count: number,
    what: string,
  ): Promise<number> {
    const prefix = await this.#source.read(PIPABLE_CHUNK_PREFIX_SIZE, undefined, what);
    const stored = viewOf(prefix).getUint32(0, true);
    const size = index < count - 1
      ? this.header.chunkSize
      : blob.size - (count - 1) * this.header.chunkSize;
    if (stored === 0 || stored > size) {
      throw new WimFormatError(
        `${what}: chunk ${index} of ${count} has stored size ${stored}, expected 1..${size}`,
      );
    }
    return stored;
  }

  /** Yields one blob's data, decoding its chunks in jobs on `pool`. */
  async *#pieces(blob: StreamBlob & PipableBlobHeader, workers: ChunkPool, what: string) {
    const pool = blob.size < INLINE_BELOW_BYTES ? this.#inline : workers;
    const queue: Pending[] = [];
    const maxJobs = pool.concurrency * JOBS_PER_WORKER;
    const emit = async function* (limit: number): AsyncGenerator<StreamPiece> {
      while (queue.length > limit) {
        const head = queue.shift()!;
        const output = await head.output;
        let pos = 0;
        for (const slice of head.slices) {
          yield { blob, offset: slice.offset, data: output.subarray(pos, pos + slice.size) };
          pos += slice.size;
        }
        if (head.pooled) pool.release(output);
      }
    };
    try {
      if (!this.#chunked(blob)) {
        for (let offset = 0; offset < blob.size; offset += JOB_TARGET_BYTES) {
          const size = Math.min(JOB_TARGET_BYTES, blob.size - offset);
          const data = await this.#source.read(size, undefined, what);
          queue.push({
            output: Promise.resolve(data),
            slices: [{ blob, offset, size }],
            pooled: false,
          });
          yield* emit(0);
        }
        return;
      }
      const chunkSize = this.header.chunkSize;
      const count = Math.ceil(blob.size / chunkSize);
      const perJob = Math.max(1, Math.floor(JOB_TARGET_BYTES / chunkSize));
      for (let first = 0; first < count; first += perJob) {
        const last = Math.min(count, first + perJob);
        const input = pool.buffer((last - first) * chunkSize);
        const chunks = new Uint32Array((last - first) * 3);
        let inputPos = 0;
        let outputBytes = 0;
        for (let i = first; i < last; i++) {
          const stored = await this.#readChunkSize(blob, i, count, what);
          const size = Math.min(chunkSize, blob.size - i * chunkSize);
          await this.#source.read(stored, input.subarray(inputPos, inputPos + stored), what);
          chunks.set([inputPos, stored, size], (i - first) * 3);
          inputPos += stored;
          outputBytes += size;
        }
        const output = pool.decode({
          codec: this.#codec as ChunkCodec,
          chunkSize,
          input: input.subarray(0, inputPos),
          chunks,
        });
        output.catch(() => {});
        queue.push({
          output,
          slices: [{ blob, offset: first * chunkSize, size: outputBytes }],
          pooled: true,
        });
        yield* emit(maxJobs - 1);
      }
      await this.#source.skip(tableBytes(blob.size, count), what);
      yield* emit(0);
    } finally {
      for (const job of queue) job.output.catch(() => {});
    }
  }
}

/** Bytes of the chunk table after a compressed resource's chunks. */
function tableBytes(size: number, count: number): number {
  return (count - 1) * (size > 0xffffffff ? 8 : 4);
}
