/**
 * The zip bridge: an image exported to a .zip, and a .zip read as a capture source, both streamed
 * through zip.js (npm:@zip.js/zip.js) with nothing extracted to disk and memory bounded by
 * zip.js's chunk size, not by entry sizes.
 *
 * Settings that matter (stack.md §9): the zip is read through {@linkcode ZipFileReader}, which
 * reads a `Deno.FsFile` by offset (never `openAsBlob`, which buffers the whole file); web workers
 * are off per call (our callers run their own pools); `level` is passed only for store (0) or an
 * explicit level, so the default stays on the native `CompressionStream`; zip.js switches an
 * entry to Zip64 by itself when its size (always passed) or offset needs it.
 *
 * Times: zip.js writes the MS-DOS time (2 s, local time, 1980-2107) and the extended timestamp
 * (1 s, signed 32-bit). We add an NTFS extra field (0x000a) with the three FILETIMEs at 100 ns,
 * which 7-Zip reads; Info-ZIP's unzip uses the extended timestamp. On reading, the NTFS field
 * wins, then zip.js's `lastModDate` (extended timestamp, else MS-DOS time).
 *
 * Names: a zip entry name is split on "/" (and "\\", which some Windows tools write); entries
 * with an absolute name, a drive letter, or an empty, "." or ".." component are skipped with an
 * "unsafe-name" warning, so no node can escape its parent. Parent directories a name implies are
 * created with the zip file's own modification time.
 */

import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import { type Entry, type FileEntry, Reader, ZipReader, ZipWriter } from "@zip.js/zip.js";
import { WimIntegrityError, WimkitError, type WimkitErrorCode } from "../errors.ts";
import { FileAttribute } from "../format/constants.ts";
import { type DentryNode, dentryStreams, isDirectory, walkTree } from "../format/metadata.ts";
import type { OperationOptions, WarningCode } from "../progress.ts";
import { WarningTally } from "../progress.ts";
import type { ContentSource, NewNode } from "../wim/new_image.ts";
import type { Wim } from "../wim/wim.ts";
import type { ScanResult } from "./scan.ts";

/** 100-ns ticks between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFFERENCE_TICKS = 116444736000000000n;
const TICKS_PER_MILLISECOND = 10_000n;
/** The NTFS extra field and its attribute 1 (three FILETIMEs). */
const EXTRA_FIELD_NTFS = 0x000a;
const NTFS_ATTRIBUTE_TIMES = 0x0001;
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

const WARNINGS: Partial<Record<WarningCode, string>> = {
  "unsafe-name": "Skipped {n} zip entries with unsafe names (first: {e})",
  "dropped-name": "Skipped {n} zip entries whose names are already used (first: {e})",
  "encrypted-file": "Skipped {n} encrypted zip entries (first: {e})",
  "special-file": "Skipped {n} zip entries that are symbolic links (first: {e})",
  "unsupported-reparse": "Skipped {n} links and other reparse points (first: {e})",
  "named-streams": "Ignored the named data streams of {n} files (first: {e})",
};

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
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const zip = await Deno.makeTempFile({ suffix: ".zip" });
 * await exportImageToZip(wim, 1, zip);
 * const scan = await scanZip(zip);
 * console.assert(scan.files > 0 && scan.root.children !== undefined);
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
  const warnings = builder.tally.warnings((n, code, example) =>
    (WARNINGS[code] ?? "{n} {e}").replace("{n}", String(n)).replace("{e}", example)
  );
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

/** Creation, access and modification FILETIMEs of an entry, at the best precision it stores. */
function entryTimes(
  entry: Entry,
): Pick<NewNode, "creationTime" | "lastAccessTime" | "lastWriteTime"> {
  const ntfs = entry.extraFieldNTFS;
  const write = ntfs?.rawLastModDate ?? dateToFiletime(entry.lastModDate);
  return {
    creationTime: ntfs?.rawCreationDate ?? write,
    lastAccessTime: ntfs?.rawLastAccessDate ?? write,
    lastWriteTime: write,
  };
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

/** Options for {@linkcode exportImageToZip}. */
export interface ExportZipOptions extends OperationOptions {
  /** Deflate level 1-9, or 0 to store; unset uses the native deflate at its default level. */
  level?: number;
}

/** What {@linkcode exportImageToZip} wrote. */
export interface ExportZipReport {
  /** Regular files written (each hard link as its own copy). */
  readonly files: number;
  /** Directories written (the root is not an entry). */
  readonly directories: number;
  /** Bytes of file content written, before compression. */
  readonly bytes: number;
  /** Links, other reparse points, encrypted files and unsafe names left out. */
  readonly skipped: number;
}

/**
 * Writes one image of a WIM as a .zip: directories and regular files with UTF-8 names and their
 * times, each file streamed from its blob (SHA-1 checked) into the zip. The zip is written under
 * a temporary name beside `zipPath` and renamed into place when complete.
 *
 * @param index 1-based image index.
 * @throws {RangeError} If `level` is not an integer from 0 to 9.
 * @throws {WimkitError} If the image cannot be read or the zip cannot be written.
 * @throws {WimIntegrityError} If a blob does not match its SHA-1.
 *
 * @example Export the first image
 * ```ts
 * import { exportImageToZip, Wim } from "@wimkit/wimkit";
 * await using wim = await Wim.open("tests/fixtures/lzx.wim");
 * const zip = await Deno.makeTempFile({ suffix: ".zip" });
 * const report = await exportImageToZip(wim, 1, zip, { level: 0 });
 * console.assert(report.files > 0);
 * await Deno.remove(zip);
 * ```
 */
export async function exportImageToZip(
  wim: Wim,
  index: number,
  zipPath: string,
  options: ExportZipOptions = {},
): Promise<ExportZipReport> {
  const level = options.level;
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 9)) {
    throw new RangeError(`Cannot export to zip: level is ${level}, expected an integer 0-9`);
  }
  const image = await wim.readImage(index);
  const plan = planExport(image.metadata.root, (hash) => wim.blob(hash)?.size ?? 0);
  const context = { file: wim.path, image: index };
  const temp = `${zipPath}.wimkit-${crypto.randomUUID().slice(0, 8)}.tmp`;
  let file: Deno.FsFile | undefined;
  let renamed = false;
  try {
    file = await Deno.open(temp, { write: true, createNew: true });
    const out = file;
    const sink = new WritableStream<Uint8Array>({
      async write(chunk) {
        let done = 0;
        while (done < chunk.length) done += await out.write(chunk.subarray(done));
      },
    });
    const writer = new ZipWriter(sink, {
      useWebWorkers: false,
      bufferedWrite: false,
      keepOrder: true,
      extendedTimestamp: true,
      ntfsTimestamp: false,
      ...(level === undefined ? {} : { level }),
    });
    const progress = { doneBytes: 0, doneFiles: 0 };
    for (const item of plan.items) {
      options.signal?.throwIfAborted();
      const entryOptions = {
        lastModDate: filetimeToDate(item.node.lastWriteTime),
        extraField: ntfsExtraField(item.node),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      if (item.directory) {
        await writer.add(`${item.path}/`, null, { ...entryOptions, directory: true });
        continue;
      }
      const blob = item.hash ? wim.blob(item.hash) : undefined;
      if (item.hash && !blob) {
        throw new WimkitError(
          `Cannot export "/${item.path}": its data (blob ${hex(item.hash)}) is not in the WIM`,
          "format",
          { ...context, path: `/${item.path}` },
        );
      }
      const size = blob?.size ?? 0;
      const stream = blob
        ? wim.openBlob(blob).pipeThrough(hashCheck(blob.hashHex, size, `/${item.path}`, wim.path))
        : null;
      await writer.add(item.path, stream, { ...entryOptions, uncompressedSize: size });
      progress.doneBytes += size;
      progress.doneFiles++;
      options.onProgress?.({
        type: "apply-blobs",
        ...progress,
        totalBytes: plan.bytes,
        totalFiles: plan.files,
      });
    }
    await writer.close();
    await out.syncData();
    out.close();
    file = undefined;
    await Deno.rename(temp, zipPath);
    renamed = true;
  } catch (error) {
    throw wrapError(
      error,
      `Cannot export image ${index} of "${wim.path}" to "${zipPath}"`,
      zipPath,
    );
  } finally {
    file?.close();
    if (!renamed) await Deno.remove(temp).catch(() => {});
  }
  const warnings = plan.tally.warnings((n, code, example) =>
    (WARNINGS[code] ?? "{n} {e}").replace("{n}", String(n)).replace("{e}", example)
  );
  for (const warning of warnings) options.onProgress?.({ type: "warning", ...warning });
  return {
    files: plan.files,
    directories: plan.directories,
    bytes: plan.bytes,
    skipped: plan.skipped,
  };
}

interface ExportItem {
  readonly path: string;
  readonly node: DentryNode;
  readonly directory: boolean;
  readonly hash: Uint8Array | null;
}

/** What the export will write, in pre-order (parents before children), and what it leaves out. */
function planExport(root: DentryNode, sizeOf: (hash: Uint8Array) => number) {
  const items: ExportItem[] = [];
  const tally = new WarningTally();
  let files = 0, directories = 0, bytes = 0, skipped = 0;
  const skip = (code: WarningCode, path: string) => {
    tally.add(code, `/${path}`);
    skipped++;
  };
  const accept = (child: DentryNode, parentPath: string) => {
    if (!child.name.includes("\\")) return true;
    skip("unsafe-name", parentPath ? `${parentPath}/${child.name}` : child.name);
    return false;
  };
  for (const { node, path } of walkTree(root, accept)) {
    if (path === "") continue;
    if (isDirectory(node)) {
      items.push({ path, node, directory: true, hash: null });
      directories++;
    } else if ((node.attributes & FileAttribute.REPARSE_POINT) !== 0) {
      skip("unsupported-reparse", path);
    } else if ((node.attributes & FileAttribute.ENCRYPTED) !== 0) {
      skip("encrypted-file", path);
    } else {
      const streams = dentryStreams(node);
      if (streams.named.length > 0) tally.add("named-streams", `/${path}`);
      items.push({ path, node, directory: false, hash: streams.data });
      files++;
      if (streams.data) bytes += sizeOf(streams.data);
    }
  }
  return { items, tally, files, directories, bytes, skipped };
}

/** Passes a blob's bytes through, failing at the end unless size and SHA-1 match. */
function hashCheck(
  hashHex: string,
  size: number,
  path: string,
  wimPath: string,
): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash("sha1");
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      total += chunk.length;
      controller.enqueue(chunk);
    },
    flush() {
      const digest = hash.digest("hex");
      if (total !== size || digest !== hashHex) {
        throw new WimIntegrityError(
          `Cannot export "${path}": its data (${total} bytes, SHA-1 ${digest}) does not match ` +
            `blob ${hashHex} (${size} bytes)`,
          { file: wimPath, path },
        );
      }
    },
  });
}

/** The NTFS extra field (0x000a) holding the node's three FILETIMEs at 100 ns. */
function ntfsExtraField(node: DentryNode): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>();
  if (node.lastWriteTime <= 0n) return fields;
  const data = new Uint8Array(32);
  const view = new DataView(data.buffer);
  view.setUint16(4, NTFS_ATTRIBUTE_TIMES, true);
  view.setUint16(6, 24, true);
  view.setBigUint64(8, node.lastWriteTime, true);
  view.setBigUint64(16, node.lastAccessTime > 0n ? node.lastAccessTime : node.lastWriteTime, true);
  view.setBigUint64(24, node.creationTime > 0n ? node.creationTime : node.lastWriteTime, true);
  fields.set(EXTRA_FIELD_NTFS, data);
  return fields;
}

function dateToFiletime(date: Date): bigint {
  const ms = date.getTime();
  return Number.isFinite(ms) ? BigInt(ms) * TICKS_PER_MILLISECOND + EPOCH_DIFFERENCE_TICKS : 0n;
}

function filetimeToDate(filetime: bigint): Date {
  const ticks = filetime - EPOCH_DIFFERENCE_TICKS;
  const ms = ticks / TICKS_PER_MILLISECOND - (ticks % TICKS_PER_MILLISECOND < 0n ? 1n : 0n);
  return new Date(Number(ms));
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Wraps zip.js and OS errors as WimkitError with context; WimkitErrors pass unchanged. */
function wrapError(error: unknown, prefix: string, file: string, path?: string): Error {
  if (error instanceof WimkitError) return error;
  if (error instanceof DOMException && error.name === "AbortError") return error;
  let code: WimkitErrorCode = "format";
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.NotFound) {
    code = "not-found";
    reason = "no such file or directory";
  } else if (error instanceof Deno.errors.PermissionDenied) {
    code = "io";
    reason = "permission denied";
  } else if (
    error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.IsADirectory
  ) {
    code = "io";
  } else if (/crc32|signature/i.test(reason)) {
    code = "integrity";
  }
  return new WimkitError(`${prefix}: ${reason}`, code, {
    file,
    ...(path === undefined ? {} : { path }),
    cause: error,
  });
}
