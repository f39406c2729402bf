/** Byte sinks: what the WIM writer writes a file (or a pipe) through. */

/**
 * A destination written at explicit offsets: a local file ({@linkcode FileSink}) accepts any
 * offset; a pipe ({@linkcode PipeSink}) only the next one, so only the pipable layout can go there.
 *
 * @example
 * ```ts
 * import type { ByteSink } from "./byte_sink.ts";
 * import { FileSink } from "./file_sink.ts";
 * const path = await Deno.makeTempFile();
 * const sink: ByteSink = FileSink.create(path);
 * sink.write(0, Uint8Array.of(1));
 * sink.close();
 * await Deno.remove(path);
 * ```
 */
export interface ByteSink {
  /** A name for messages. */
  readonly path: string;
  /** Writes all of `data` at `offset`. */
  write(offset: number, data: Uint8Array): void;
  /** Reads back `length` bytes at `offset` (seekable sinks only). */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
  /** Cuts the output to `size` bytes (a pipe accepts only its current size). */
  truncate(size: number): void;
  /** Flushes to stable storage (a no-op for pipes). */
  sync(): void;
  /** Closes the sink. */
  close(): void;
}
