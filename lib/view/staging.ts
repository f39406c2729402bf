/**
 * The staging area of a writable view: a private temporary directory holding the new and changed
 * file contents until they are committed into the WIM or discarded. A staged file becomes part of
 * the tree only once its body is complete, so a client that goes away mid-upload leaves nothing.
 */

import { WimkitError } from "../errors.ts";
import type { ContentSource } from "../wim/new_image.ts";
import { fileSource } from "../fs/scan.ts";

/** Piece size for reading staged files. */
const READ_PIECE_BYTES = 1 << 20;

/** A file's content held in the staging area; its size follows writes and truncation. */
export class StagedContent implements ContentSource {
  /** Host path of the staging file. */
  readonly path: string;
  /** Current size in bytes. */
  size: number;
  /** True once a copy shares it: the next change copies it first (copy on write). */
  shared = false;

  constructor(path: string, size: number) {
    this.path = path;
    this.size = size;
  }

  /** For error messages. */
  get label(): string {
    return this.path;
  }

  /** Yields the content from the start. */
  read(): AsyncIterable<Uint8Array> {
    return fileSource(this.path, this.size).read();
  }
}

/**
 * A temporary directory of staged contents, removed on dispose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StagingArea } from "./staging.ts";
 * await using staging = await StagingArea.create();
 * const staged = await staging.fromBody(new TextEncoder().encode("hi"));
 * assert.ok(staged.size === 2);
 * ```
 */
export class StagingArea implements AsyncDisposable {
  /** The directory. */
  readonly dir: string;
  #next = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Creates a staging directory inside `parent` (default: the system temp directory).
   *
   * @throws {WimkitError} With code "io" if it cannot be created.
   */
  static async create(parent?: string): Promise<StagingArea> {
    try {
      const dir = await Deno.makeTempDir({
        prefix: "wimkit-view-",
        ...(parent === undefined ? {} : { dir: parent }),
      });
      return new StagingArea(dir);
    } catch (error) {
      throw new WimkitError(
        `Cannot create a staging directory in "${parent ?? "the temp directory"}": ${
          reason(error)
        }`,
        "io",
        { cause: error },
      );
    }
  }

  /**
   * Writes `body` to a new staging file; on any error the file is removed and the error rethrown.
   */
  async fromBody(
    body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<StagedContent> {
    const path = `${this.dir}/${this.#next++}`;
    let size = 0;
    try {
      await using file = await Deno.open(path, { write: true, createNew: true });
      if (body instanceof Uint8Array) {
        await writeAll(file, body);
        size = body.length;
      } else {
        for await (const piece of body) {
          await writeAll(file, piece);
          size += piece.length;
        }
      }
    } catch (error) {
      await Deno.remove(path).catch(() => {});
      throw error;
    }
    return new StagedContent(path, size);
  }

  /** Writes `data` at `offset` of `content`, growing it as needed. */
  async writeAt(content: StagedContent, offset: number, data: Uint8Array): Promise<void> {
    {
      await using file = await Deno.open(content.path, { write: true });
      await file.seek(offset, Deno.SeekMode.Start);
      await writeAll(file, data);
    }
    content.size = Math.max(content.size, offset + data.length);
  }

  /** Cuts or zero-extends `content` to `size` bytes. */
  async truncate(content: StagedContent, size: number): Promise<void> {
    await Deno.truncate(content.path, size);
    content.size = size;
  }

  /** Reads up to `length` bytes of `content` at `offset`. */
  async read(content: StagedContent, offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(content.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    await using file = await Deno.open(content.path, { read: true });
    await file.seek(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < out.length) {
      const n = await file.read(out.subarray(done));
      if (n === null) break;
      done += n;
    }
    return out.subarray(0, done);
  }

  /** Streams bytes [start, end) of `content`. */
  stream(content: StagedContent, start: number, end: number): ReadableStream<Uint8Array> {
    let pos = start;
    const stop = Math.min(end, content.size);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pos >= stop) {
          controller.close();
          return;
        }
        const bytes = await this.read(content, pos, Math.min(READ_PIECE_BYTES, stop - pos));
        if (bytes.length === 0) {
          controller.close();
          return;
        }
        pos += bytes.length;
        controller.enqueue(bytes);
      },
    }, { highWaterMark: 0 });
  }

  /** Removes every staged file (after a commit or a discard). */
  async clear(): Promise<void> {
    for await (const entry of Deno.readDir(this.dir)) {
      await Deno.remove(`${this.dir}/${entry.name}`, { recursive: true }).catch(() => {});
    }
  }

  /** Removes the directory and everything in it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
