/**
 * Reads many blobs in order, decoding their chunks in batches on a {@linkcode ChunkPool}.
 *
 * The caller passes blobs in the order it wants them (apply sorts them by file offset). Chunks are
 * planned into jobs of about {@linkcode JOB_TARGET_BYTES} of output; a chunk that several
 * consecutive blobs share (solid resources) is decoded once. Jobs stay in flight up to the
 * pool's concurrency times {@linkcode JOBS_PER_WORKER}, and up to {@linkcode MAX_INFLIGHT_BYTES},
 * so memory stays bounded whatever the WIM's size.
 */

import { CodecError, WimFormatError } from "../errors.ts";
import type { ChunkPool } from "../codecs/chunk_pool.ts";
import type { ChunkCodec } from "../codecs/registry.ts";
import {
  type BlobInfo,
  type ChunkLayout,
  chunkUncompressedSize,
  readChunkLayout,
} from "./blob_location.ts";
import type { ByteSource } from "../io/byte_source.ts";
import { isCompressedResource } from "../format/resource_header.ts";
import { announceReads } from "./read_hints.ts";

/** Output bytes one job aims for (a worker round trip costs ~0.2 ms; stack.md §6). */
export const JOB_TARGET_BYTES = 1 << 20;
/** Jobs kept in flight per worker. */
export const JOBS_PER_WORKER = 3;
/** Upper bound on decoded-but-unconsumed plus in-flight bytes. */
export const MAX_INFLIGHT_BYTES = 128 << 20;
/** Piece size for reading uncompressed resources. */
const RAW_PIECE_BYTES = 1 << 20;

/** A piece of one blob's data, in order; `data` is valid until the next piece is requested. */
export interface BlobPiece {
  /** The blob the piece belongs to. */
  readonly blob: BlobInfo;
  /** Offset of the piece within the blob. */
  readonly offset: number;
  /** The bytes. */
  readonly data: Uint8Array;
}

interface Slice {
  blob: BlobInfo;
  blobOffset: number;
  start: number;
  end: number;
}

interface Unit {
  key: string;
  source: ByteSource;
  fileStart: number;
  fileEnd: number;
  size: number;
  slices: Slice[];
}

interface PlannedJob {
  codec: ChunkCodec | "none";
  chunkSize: number;
  units: Unit[];
  outputBytes: number;
}

interface SubmittedJob {
  job: PlannedJob;
  output: Promise<Uint8Array>;
}

/**
 * Yields the data of `blobs`, each blob's pieces in order, blob after blob.
 *
 * @param options.fileName Name used in error messages.
 * @throws {WimFormatError} If a resource is malformed.
 * @throws {CodecError} If a chunk fails to decode, with the blob's hash in the message.
 *
 * @example
 * ```ts ignore
 * for await (const piece of readBlobs(blobs, pool)) hash.update(piece.data);
 * ```
 */
export async function* readBlobs(
  blobs: Iterable<BlobInfo>,
  pool: ChunkPool,
  options: { fileName?: string; signal?: AbortSignal } = {},
): AsyncGenerator<BlobPiece> {
  if (Array.isArray(blobs)) announceReads(blobs);
  const planner = planJobs(blobs);
  const queue: SubmittedJob[] = [];
  let queuedBytes = 0;
  let exhausted = false;
  const maxJobs = pool.concurrency * JOBS_PER_WORKER;
  try {
    for (;;) {
      while (
        !exhausted && queue.length < maxJobs &&
        (queue.length === 0 || queuedBytes < MAX_INFLIGHT_BYTES)
      ) {
        const next = await planner.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        queue.push({ job: next.value, output: submit(next.value, pool) });
        queuedBytes += next.value.outputBytes;
      }
      const head = queue.shift();
      if (!head) return;
      options.signal?.throwIfAborted();
      let output: Uint8Array;
      try {
        output = await head.output;
      } catch (error) {
        throw describeFailure(error, head.job, options.fileName);
      }
      queuedBytes -= head.job.outputBytes;
      let pos = 0;
      for (const unit of head.job.units) {
        for (const slice of unit.slices) {
          yield {
            blob: slice.blob,
            offset: slice.blobOffset,
            data: output.subarray(pos + slice.start, pos + slice.end),
          };
        }
        pos += unit.size;
      }
      // Every slice of the job has been consumed: its buffer can serve a later job.
      pool.release(output);
    }
  } finally {
    // Let rejected in-flight jobs settle quietly when the consumer stops early.
    for (const job of queue) job.output.catch(() => {});
  }
}

/** Reads all of one blob into memory (for metadata and small blobs). */
export async function readBlobBytes(
  blob: BlobInfo,
  pool: ChunkPool,
  fileName?: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(blob.size);
  for await (
    const piece of readBlobs([blob], pool, fileName === undefined ? {} : { fileName })
  ) {
    out.set(piece.data, piece.offset);
  }
  return out;
}

function describeFailure(error: unknown, job: PlannedJob, fileName: string | undefined): unknown {
  if (!(error instanceof CodecError)) return error;
  const blob = job.units[0]?.slices[0]?.blob;
  const where = fileName ? ` of "${fileName}"` : "";
  return new CodecError(`Cannot read blob ${blob?.hashHex ?? "?"}${where}: ${error.message}`, {
    cause: error,
    ...(fileName === undefined ? {} : { file: fileName }),
  });
}

async function submit(job: PlannedJob, pool: ChunkPool): Promise<Uint8Array> {
  let inputBytes = 0;
  for (const unit of job.units) inputBytes += unit.fileEnd - unit.fileStart;
  const input = pool.buffer(inputBytes);
  const chunks = new Uint32Array(job.units.length * 3);
  let pos = 0;
  let i = 0;
  while (i < job.units.length) {
    // Coalesce file-contiguous units into one read.
    const first = job.units[i]!;
    let j = i + 1;
    while (
      j < job.units.length && job.units[j]!.source === first.source &&
      job.units[j]!.fileStart === job.units[j - 1]!.fileEnd
    ) j++;
    const last = job.units[j - 1]!;
    const length = last.fileEnd - first.fileStart;
    await first.source.read(first.fileStart, length, input.subarray(pos, pos + length));
    for (let k = i; k < j; k++) {
      const unit = job.units[k]!;
      chunks[k * 3] = pos + unit.fileStart - first.fileStart;
      chunks[k * 3 + 1] = unit.fileEnd - unit.fileStart;
      chunks[k * 3 + 2] = unit.size;
    }
    pos += length;
    i = j;
  }
  if (job.codec === "none") {
    // Stored chunks: the input already is the output.
    for (const unit of job.units) {
      if (unit.fileEnd - unit.fileStart !== unit.size) {
        throw new CodecError(
          `stored chunk has ${unit.fileEnd - unit.fileStart} bytes, expected ${unit.size}`,
        );
      }
    }
    return input;
  }
  return pool.decode({ codec: job.codec, chunkSize: job.chunkSize, input, chunks });
}

async function* planJobs(blobs: Iterable<BlobInfo>): AsyncGenerator<PlannedJob> {
  let current: PlannedJob | null = null;
  for (const blob of blobs) {
    for await (const planned of unitsOf(blob)) {
      const { unit, codec, chunkSize } = planned;
      const last: Unit | undefined = current?.units.at(-1);
      if (last && last.key === unit.key) {
        last.slices.push(...unit.slices);
        continue;
      }
      if (
        current &&
        (current.codec !== codec || current.chunkSize !== chunkSize ||
          current.outputBytes + unit.size > JOB_TARGET_BYTES)
      ) {
        yield current;
        current = null;
      }
      current ??= { codec, chunkSize, units: [], outputBytes: 0 };
      current.units.push(unit);
      current.outputBytes += unit.size;
    }
  }
  if (current) yield current;
}

interface PlannedUnit {
  unit: Unit;
  codec: ChunkCodec | "none";
  chunkSize: number;
}

async function* unitsOf(blob: BlobInfo): AsyncGenerator<PlannedUnit> {
  const location = blob.location;
  if (blob.size === 0) return;
  if (location.kind === "resource") {
    const resource = location.resource;
    if (!isCompressedResource(resource)) {
      if (resource.sizeInWim !== resource.originalSize || resource.originalSize !== blob.size) {
        throw new WimFormatError(
          `blob ${blob.hashHex}: uncompressed resource size ${resource.sizeInWim} does not match ${blob.size}`,
        );
      }
      for (let offset = 0; offset < blob.size; offset += RAW_PIECE_BYTES) {
        const size = Math.min(RAW_PIECE_BYTES, blob.size - offset);
        const fileStart = resource.offset + offset;
        yield {
          unit: {
            key: `raw:${blob.partNumber}:${fileStart}`,
            source: location.source,
            fileStart,
            fileEnd: fileStart + size,
            size,
            slices: [{ blob, blobOffset: offset, start: 0, end: size }],
          },
          codec: "none",
          chunkSize: 0,
        };
      }
      return;
    }
    if (location.codec === "none") {
      throw new WimFormatError(
        `blob ${blob.hashHex} is compressed but the WIM has no compression type`,
      );
    }
    const layout = await readChunkLayout(
      location.source,
      resource,
      location.codec,
      location.chunkSize,
    );
    yield* chunkUnits(blob, layout, 0, `c:${blob.partNumber}:${resource.offset}`);
    return;
  }
  const layout = await location.solid.layout();
  if (location.offset + blob.size > layout.uncompressedSize) {
    throw new WimFormatError(`blob ${blob.hashHex} runs past the end of its solid resource`);
  }
  yield* chunkUnits(
    blob,
    layout,
    location.offset,
    `s:${blob.partNumber}:${location.solid.fileOffset}`,
  );
}

function* chunkUnits(
  blob: BlobInfo,
  layout: ChunkLayout,
  start: number,
  keyPrefix: string,
): Generator<PlannedUnit> {
  const end = start + blob.size;
  if (end > layout.uncompressedSize) {
    throw new WimFormatError(`blob ${blob.hashHex} is larger than its resource`);
  }
  const first = Math.floor(start / layout.chunkSize);
  const last = Math.floor((end - 1) / layout.chunkSize);
  for (let index = first; index <= last; index++) {
    const chunkStart = index * layout.chunkSize;
    const size = chunkUncompressedSize(layout, index);
    const sliceStart = Math.max(start, chunkStart) - chunkStart;
    const sliceEnd = Math.min(end, chunkStart + size) - chunkStart;
    yield {
      unit: {
        key: `${keyPrefix}:${index}`,
        source: layout.source,
        fileStart: layout.bounds[index]!,
        fileEnd: layout.bounds[index + 1]!,
        size,
        slices: [{
          blob,
          blobOffset: chunkStart + sliceStart - start,
          start: sliceStart,
          end: sliceEnd,
        }],
      },
      codec: layout.codec,
      chunkSize: layout.chunkSize,
    };
  }
}
