/**
 * A .zip read as a capture source: the central directory becomes the image tree, and each file's
 * content streams from the zip on every read, with nothing extracted to disk and memory bounded
 * by the inflater's pieces, not by entry sizes (the other half of the zip bridge is
 * lib/fs/zip_export.ts).
 *
 * The zip is read through {@linkcode ZipFileReader}, which reads a `Deno.FsFile` by offset (never
 * `openAsBlob`, which buffers the whole file), with zip.js's web workers off (stack.md §9).
 *
 * Names: a zip entry name is split on "/" (and "\\", which some Windows tools write); entries
 * with an absolute name, a drive letter, or an empty, "." or ".." component are skipped with an
 * "unsafe-name" warning, so no node can escape its parent. Parent directories a name implies are
 * created with the zip file's own modification time.
 */

import { Readable } from "node:stream";
import { pipeline } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import { type Entry, type FileEntry, Reader, ZipReader } from "@zip.js/zip.js";
import { WimkitError } from "../errors.ts";
import { FileAttribute } from "../format/constants.ts";
import type { OperationOptions } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { ContentSource, NewNode } from "../wim/new_image.ts";
import type { ScanResult } from "./scan.ts";
import { wrapError, zipWarnings } from "./zip_errors.ts";
import { dateToFiletime, entryTimes } from "./zip_times.ts";

/** Bytes read from the zip file at a time when streaming an entry. */
const READ_BLOCK_BYTES = 512 << 10;
/**
 * Bytes of deflated data handed to the inflater at a time. An inflater emits all the output of one
 * write at once, whatever the backpressure, and deflate expands at most about 1032:1, so 16 KiB
 * pieces bound a burst at about 17 MiB. (Inflating inside zip.js instead, a 200 MiB entry of zeros
 * was inflated whole before the first byte reached the consumer: RSS +406 MiB.)
 */
const INFLATE_PIECE_BYTES = 16 << 10;
/** Size of the inflater's output buffers. */
const INFLATE_OUTPUT_BYTES = 256 << 10;
/** Zip compression methods inflated here; others are left to zip.js. */
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
/** Deepest directory nesting a zip entry may ask for (as Limits.MAX_DENTRY_DEPTH). */
const MAX_ZIP_DEPTH = 16384;

/**
 * A zip.js {@linkcode Reader} over a file on disk that reads by offset. Each read opens its own
 * handle, so nothing stays open between reads and concurrent reads cannot disturb each other's
 * position; streaming reads keep one handle for the whole range.
 */
class ZipFileReader extends Reader<string> {
  readonly #path: string;

  constructor(path: string) {
    super(path);
    this.#path = path;
  }

  override async init(): Promise<void> {
    this.size = (await Deno.stat(this.#path)).size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    using file = await Deno.open(this.#path, { read: true });
    await file.seek(index, Deno.SeekMode.Start);
    return await readFull(file, new Uint8Array(Math.max(0, Math.min(length, this.size - index))));
  }

  override createReadable(
    options: { offset?: number; size?: number; chunkSize?: number } = {},
  ): ReadableStream<Uint8Array> {
    const start = options.offset ?? 0;
    const end = options.size === undefined ? this.size : Math.min(this.size, start + options.size);
    const blockBytes = Math.max(
      1,
      Math.min(options.chunkSize ?? READ_BLOCK_BYTES, READ_BLOCK_BYTES),
    );
    const path = this.#path;
    let file: Deno.FsFile | undefined;
    let position = start;
    const close = () => {
      file?.close();
      file = undefined;
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (!file) {
            file = await Deno.open(path, { read: true });
            await file.seek(start, Deno.SeekMode.Start);
          }
          const data = await readFull(file, new Uint8Array(Math.min(blockBytes, end - position)));
          position += data.length;
          if (data.length > 0) controller.enqueue(data);
          if (position >= end || data.length === 0) {
            close();
            controller.close();
          }
        } catch (error) {
          close();
          throw error;
        }
      },
      cancel: close,
    }, { highWaterMark: 0 });
  }
}

async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<Uint8Array> {
  let done = 0;
  while (done < buffer.length) {
    const n = await file.read(buffer.subarray(done));
    if (n === null) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/**
 * Reads the central directory of a .zip and builds the image tree capture writes: directories
 * (listed or implied by names), files whose content streams from the zip on each read (CRC-32
 * checked), modification times at the zip's precision.
 *
 * @throws {WimkitError} If the file cannot be read ("not-found", "io") or is not a valid zip
 *   ("format"); reading a file's content later throws "format" or "integrity" errors.
 *
 * @example Scan a zip written by exportImageToZip
 * ```ts
 * import { exportImageToZip, scanZip, Wim } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const zip = await Deno.makeTempFile({ suffix: ".zip" });
 * await exportImageToZip(wim, 1, zip);
 * const scan = await scanZip(zip);
 * assert.ok(scan.files > 0 && scan.root.children !== undefined);
 * await Deno.remove(zip);
 * ```
 */
export async function scanZip(path: string, options: OperationOptions = {}): Promise<ScanResult> {
  let zipTime: bigint;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new WimkitError(`Cannot read zip "${path}": not a file`, "usage", { file: path });
    }
    zipTime = dateToFiletime(info.mtime ?? new Date(0));
  } catch (error) {
    throw wrapError(error, `Cannot read zip "${path}"`, path);
  }
  // Names are checked here, so that an unsafe one skips its entry rather than the whole zip.
  const reader = new ZipReader(new ZipFileReader(path), {
    useWebWorkers: false,
    filenameValidation: "tolerant",
  });
  const builder = new TreeBuilder(path, zipTime);
  let entries = 0;
  try {
    for await (const entry of reader.getEntriesGenerator()) {
      options.signal?.throwIfAborted();
      builder.add(entry);
      if (++entries % 1000 === 0) {
        options.onProgress?.({ type: "scan", ...builder.counts, path: entry.filename });
      }
    }
  } catch (error) {
    throw wrapError(error, `Cannot read zip "${path}"`, path);
  } finally {
    await reader.close();
  }
  options.onProgress?.({ type: "scan", ...builder.counts, path: "/" });
  const warnings = zipWarnings(builder.tally);
  for (const warning of warnings) options.onProgress?.({ type: "warning", ...warning });
  return { root: builder.root, ...builder.counts, warnings };
}

/** Builds the NewNode tree from zip entries in central-directory order. */
class TreeBuilder {
  readonly root: NewNode;
  readonly counts = { files: 0, directories: 1, bytes: 0 };
  readonly tally = new WarningTally();
  readonly #zipPath: string;
  readonly #zipTime: bigint;
  /** Children of each directory by name, for lookups. */
  readonly #index = new Map<NewNode, Map<string, NewNode>>();

  constructor(zipPath: string, zipTime: bigint) {
    this.#zipPath = zipPath;
    this.#zipTime = zipTime;
    this.root = this.#directory("", zipTime);
  }

  add(entry: Entry): void {
    const parts = safeComponents(entry.filename);
    if (!parts) {
      this.tally.add("unsafe-name", JSON.stringify(entry.filename));
      return;
    }
    if (parts.length === 0) return; // "/" or "./": the root itself
    if (entry.encrypted) {
      this.tally.add("encrypted-file", entry.filename);
      return;
    }
    if (!entry.directory && entry.symlink) {
      this.tally.add("special-file", entry.filename);
      return;
    }
    let parent = this.root;
    for (const name of parts.slice(0, -1)) {
      const existing = this.#index.get(parent)!.get(name);
      if (existing && !existing.children) {
        this.tally.add("dropped-name", entry.filename);
        return;
      }
      parent = existing ?? this.#addChild(parent, this.#directory(name, this.#zipTime));
    }
    const name = parts.at(-1)!;
    const existing = this.#index.get(parent)!.get(name);
    const times = entryTimes(entry);
    if (entry.directory) {
      if (existing?.children) Object.assign(existing, times);
      else if (existing) this.tally.add("dropped-name", entry.filename);
      else this.#addChild(parent, Object.assign(this.#directory(name, 0n), times));
      return;
    }
    if (existing) {
      this.tally.add("dropped-name", entry.filename);
      return;
    }
    const node: NewNode = { name, attributes: FileAttribute.NORMAL, ...times };
    if (entry.uncompressedSize > 0) node.content = entrySource(entry, this.#zipPath);
    this.#addChild(parent, node);
    this.counts.files++;
    this.counts.bytes += entry.uncompressedSize;
  }

  #directory(name: string, time: bigint): NewNode {
    const node: NewNode = {
      name,
      attributes: FileAttribute.DIRECTORY,
      creationTime: time,
      lastAccessTime: time,
      lastWriteTime: time,
      children: [],
    };
    this.#index.set(node, new Map());
    return node;
  }

  #addChild(parent: NewNode, child: NewNode): NewNode {
    parent.children!.push(child);
    this.#index.get(parent)!.set(child.name, child);
    if (child.children) this.counts.directories++;
    return child;
  }
}

/** The components of a zip entry name, or null when the name is unsafe. */
function safeComponents(filename: string): string[] | null {
  if (/^[\\/]/.test(filename) || /^[A-Za-z]:/.test(filename) || filename.includes("\0")) {
    return null;
  }
  const parts = filename.replace(/[\\/]$/, "").split(/[\\/]/);
  if (parts.length === 1 && parts[0] === "") return [];
  if (parts.length > MAX_ZIP_DEPTH) return null;
  if (parts.some((part) => part === "" || part === "." || part === "..")) return null;
  return parts;
}

/**
 * An entry's content as a source: each read() reads the entry again, checking its size and CRC-32.
 * Stored and deflated entries are read raw through zip.js (`passThrough`) and inflated here, in
 * small pieces so memory stays bounded; other methods (deflate64, ...) are left to zip.js.
 */
function entrySource(entry: FileEntry, zipPath: string): ContentSource {
  const size = entry.uncompressedSize;
  const method = entry.compressionMethod;
  const ours = method === METHOD_STORE || method === METHOD_DEFLATE;
  return {
    size,
    label: `${zipPath}:${entry.filename}`,
    async *read() {
      let control!: TransformStreamDefaultController<Uint8Array>;
      const pipe = new TransformStream<Uint8Array, Uint8Array>({
        start(controller) {
          control = controller;
        },
      });
      const done = entry.getData(pipe.writable, {
        useWebWorkers: false,
        ...(ours ? { passThrough: true } : { checkCrc32: true }),
      }).then(() => undefined, (error: unknown) => {
        try {
          control.error(error);
        } catch { /* already errored or closed */ }
        return error;
      });
      const data: AsyncIterable<Uint8Array> = method === METHOD_DEFLATE
        ? inflate(pipe.readable)
        : pipe.readable;
      const iterator = data[Symbol.asyncIterator]();
      let total = 0;
      let crc = 0;
      let finished = false;
      try {
        while (true) {
          const next = await iterator.next();
          if (next.done) break;
          total += next.value.length;
          if (total > size) throw new Error(`it holds more than the ${size} bytes it declares`);
          if (ours) crc = crc32(next.value, crc);
          yield next.value;
        }
        const failure = await done;
        if (failure !== undefined) throw failure;
        if (total !== size) throw new Error(`it holds ${total} bytes, not the ${size} it declares`);
        if (ours && entry.crc32 !== undefined && crc !== entry.crc32) {
          throw new WimkitError(
            `Cannot read "${entry.filename}" from zip "${zipPath}": CRC-32 ${hex32(crc)} does ` +
              `not match ${hex32(entry.crc32)}`,
            "integrity",
            { file: zipPath, path: entry.filename },
          );
        }
        finished = true;
      } catch (error) {
        throw wrapError(
          error,
          `Cannot read "${entry.filename}" from zip "${zipPath}"`,
          zipPath,
          entry.filename,
        );
      } finally {
        if (!finished) {
          await iterator.return?.().catch(() => {});
          await pipe.readable.cancel().catch(() => {});
          await done;
        }
      }
    },
  };
}

/**
 * Inflates raw deflate data with node:zlib, fed in {@linkcode INFLATE_PIECE_BYTES} pieces. Not
 * the native DecompressionStream: its output buffers are not counted by V8, so garbage piled up
 * uncollected (RSS +210 MiB for a 200 MiB entry, +3 MiB with node:zlib's buffers).
 */
function inflate(compressed: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  async function* pieces() {
    for await (const chunk of compressed) {
      for (let at = 0; at < chunk.length; at += INFLATE_PIECE_BYTES) {
        yield chunk.subarray(at, at + INFLATE_PIECE_BYTES);
      }
    }
  }
  const inflater = createInflateRaw({ chunkSize: INFLATE_OUTPUT_BYTES });
  pipeline(Readable.from(pieces(), { highWaterMark: 4 }), inflater, () => {});
  return inflater;
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
