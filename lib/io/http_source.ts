/**
 * An http:// or https:// URL as a {@linkcode ByteSource}, read with Range requests.
 *
 * Request pattern: reads are served by *cursors*, each one sequential Range request (cut into
 * segments of {@linkcode HttpSourceOptions.segmentBytes}) whose body is consumed in order. A read
 * that starts at, or a little after ({@linkcode HttpSourceOptions.gapBytes}), where a cursor's
 * queued reads end joins that cursor; the skipped gap is read and dropped. A new cursor asks for
 * exactly the bytes of its read, unless the reader announced, through `willRead`, the ranges it is
 * about to read: then the request runs to the end of the announced run of ranges. So applying an
 * image costs about one request per run of adjacent resources (chunk table and chunks together),
 * and never asks for bytes nobody announced or read. Up to
 * {@linkcode HttpSourceOptions.maxConnections} cursors read in parallel.
 *
 * The file's version is pinned (see `http_fetch.ts`), transient failures are retried, and a cursor
 * whose body drops is reopened where it stopped.
 */

import { WimFormatError } from "../errors.ts";
import type { ByteRange, ByteSource } from "./byte_source.ts";
import { Stash } from "./read_stash.ts";
import {
  backoff,
  DEFAULT_HTTP_POLICY,
  fetchRange,
  gaveUp,
  type HttpPolicy,
  type HttpVersion,
  type RangeBody,
  readPiece,
  TransientHttpError,
} from "./http_fetch.ts";

/** Options for HTTP sources. */
export interface HttpSourceOptions extends Partial<HttpPolicy> {
  /** Most Range requests in flight at once (default 4). */
  maxConnections?: number;
  /** Most bytes one request asks for; a longer run is fetched segment by segment (default 8 MiB). */
  segmentBytes?: number;
  /** A read at most this far past a cursor's position reuses it, dropping the gap (default 16 KiB). */
  gapBytes?: number;
}

const DEFAULT_MAX_CONNECTIONS = 4;
const DEFAULT_SEGMENT_BYTES = 8 << 20;
const DEFAULT_GAP_BYTES = 16 << 10;
/**
 * Announced bytes a cursor skipped are kept up to this total for a read that comes later. The
 * blob reader reads the next blob's chunk table before it submits the last job of the previous
 * blob (at most about one job, 1 MiB), so a few MiB suffice.
 */
const MAX_STASH_BYTES = 32 << 20;

/**
 * A {@linkcode ByteSource} over a URL whose server honours Range requests; made by
 * `openHttpSource` (open_source.ts), which learns `version` from the first response.
 *
 * @example Read the first bytes of a served WIM
 * ```ts ignore
 * const source = new HttpRangeSource("http://127.0.0.1:8080/a.wim", version, head, {});
 * const magic = await source.read(0, 8);
 * ```
 */
export class HttpRangeSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly #version: HttpVersion;
  readonly #policy: HttpPolicy;
  readonly #maxConnections: number;
  readonly #segmentBytes: number;
  readonly #gapBytes: number;
  /** The first bytes of the file, from the first response. */
  readonly #head: Uint8Array;
  /** Announced runs, sorted and disjoint, as [start, end) pairs. */
  #runs: ByteRange[] = [];
  readonly #cursors = new Set<RangeCursor>();
  #waiters: (() => void)[] = [];
  readonly #stash = new Stash(MAX_STASH_BYTES);
  #closed = false;

  constructor(url: string, version: HttpVersion, head: Uint8Array, options: HttpSourceOptions) {
    this.name = url;
    this.size = version.size;
    this.#version = version;
    this.#head = head;
    this.#policy = {
      retries: options.retries ?? DEFAULT_HTTP_POLICY.retries,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_HTTP_POLICY.retryDelayMs,
      timeoutMs: options.timeoutMs ?? DEFAULT_HTTP_POLICY.timeoutMs,
    };
    this.#maxConnections = Math.max(1, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.#segmentBytes = Math.max(1 << 16, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    this.#gapBytes = Math.max(0, options.gapBytes ?? DEFAULT_GAP_BYTES);
  }

  /** Records ranges that will be read soon (merged with earlier announcements). */
  willRead(ranges: readonly ByteRange[]): void {
    const all = [...this.#runs, ...ranges.filter((r) => r.length > 0)]
      .sort((a, b) => a.offset - b.offset);
    const merged: ByteRange[] = [];
    for (const range of all) {
      const last = merged.at(-1);
      if (last && range.offset <= last.offset + last.length + this.#gapBytes) {
        const end = Math.max(last.offset + last.length, range.offset + range.length);
        merged[merged.length - 1] = { offset: last.offset, length: end - last.offset };
      } else merged.push({ ...range });
    }
    this.#runs = merged;
  }

  async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new WimFormatError(
        `Cannot read "${this.name}": bytes ${offset}..${
          offset + length
        } run past the end of the file (${this.size} bytes)`,
        { file: this.name },
      );
    }
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    if (offset + length <= this.#head.length) {
      out.set(this.#head.subarray(offset, offset + length));
      return out;
    }
    if (this.#closed) throw new TypeError(`"${this.name}" is closed`);
    const end = offset + length;
    if (this.#stash.take(offset, out)) return out;
    const ride = this.#rideAlong(offset, end, out);
    if (ride) {
      await ride;
      return out;
    }
    let cursor = this.#joinable(offset, end);
    if (cursor) cursor.nextPos = end;
    else cursor = await this.#newCursor(offset, end);
    cursor.pending++;
    const target = cursor;
    const job = target.tail.then(() =>
      // Rare: a read of bytes the cursor has already passed gets a request of its own.
      target.pos > offset
        ? this.#exactCursor(offset, end).fill(offset, out)
        : target.fill(offset, out)
    );
    target.tail = job.catch(() => {});
    try {
      await job;
    } finally {
      target.pending--;
      if (target.pos >= target.end || target.failed) this.#drop(target);
      else this.#wakeOne();
    }
    return out;
  }

  close(): void {
    this.#closed = true;
    for (const cursor of this.#cursors) cursor.cancel();
    this.#cursors.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * A cursor whose queued reads end at or a little before `offset` and that reaches `end`. When
   * the cursor covers an announced run, any gap will do: its bytes were announced, and a read of
   * them that comes later rides along (see {@linkcode HttpRangeSource.#rideAlong}).
   */
  #joinable(offset: number, end: number): RangeCursor | undefined {
    for (const cursor of this.#cursors) {
      if (
        !cursor.failed && cursor.nextPos <= offset && end <= cursor.end &&
        (cursor.announced || offset - cursor.nextPos <= this.#gapBytes)
      ) return cursor;
    }
    return undefined;
  }

  /** When a cursor's queued reads will pass over `offset..end`, copies those bytes as they go by. */
  #rideAlong(offset: number, end: number, out: Uint8Array): Promise<void> | undefined {
    for (const cursor of this.#cursors) {
      if (!cursor.failed && cursor.pos <= offset && end <= cursor.nextPos) {
        return new Promise((resolve, reject) =>
          cursor.riders.push({ offset, end, out, resolve, reject })
        );
      }
    }
    return undefined;
  }

  /** A cursor from `offset` to the end of its announced run (or `end`), once a slot is free. */
  async #newCursor(offset: number, end: number): Promise<RangeCursor> {
    while (this.#cursors.size >= this.#maxConnections) {
      const idle = [...this.#cursors].find((c) => c.pending === 0);
      if (idle) {
        this.#drop(idle);
        break;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      if (this.#closed) throw new TypeError(`"${this.name}" is closed`);
    }
    let stop = end;
    const run = this.#runs.find((r) => r.offset <= offset && offset < r.offset + r.length);
    if (run) {
      stop = Math.max(end, run.offset + run.length);
      // The cursor takes the run over; later announcements do not merge with it again.
      this.#runs = this.#runs.filter((r) => r !== run);
    }
    // Never ask again for bytes another cursor is about to fetch.
    for (const other of this.#cursors) {
      if (other.pos >= end && other.pos < stop) stop = other.pos;
    }
    const cursor = new RangeCursor(this.name, offset, stop, stop > end, this.#settings());
    cursor.nextPos = end;
    this.#cursors.add(cursor);
    return cursor;
  }

  /** A cursor for exactly `offset..end`, outside the set. */
  #exactCursor(offset: number, end: number): RangeCursor {
    return new RangeCursor(this.name, offset, end, false, this.#settings());
  }

  #settings(): CursorSettings {
    return {
      stash: this.#stash,
      version: this.#version,
      policy: this.#policy,
      segmentBytes: this.#segmentBytes,
    };
  }

  #drop(cursor: RangeCursor): void {
    if (!this.#cursors.delete(cursor)) return;
    cursor.cancel();
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }
}

/** A read served from bytes a cursor passes over for other reads. */
interface Rider {
  offset: number;
  end: number;
  out: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface CursorSettings {
  stash: Stash;
  version: HttpVersion;
  policy: HttpPolicy;
  segmentBytes: number;
}

/** One sequential pass over bytes `pos..end` of the URL, request by request. */
class RangeCursor {
  /** The next byte the body delivers. */
  pos: number;
  /** Where the reads queued on this cursor end. */
  nextPos: number;
  /** Exclusive end of the pass. */
  readonly end: number;
  /** Reads queued or running. */
  pending = 0;
  /** Set when a read failed for good: the cursor takes no more reads. */
  failed = false;
  /** The error of the first failed read; the reads queued after it fail with it too. */
  failure: unknown = undefined;
  /** The promise the next read waits for (reads run one after another). */
  tail: Promise<void> = Promise.resolve();
  /** True when the pass runs past its first read to the end of an announced run. */
  readonly announced: boolean;
  /** Reads of bytes that queued reads pass over: served as the bytes go by. */
  riders: Rider[] = [];
  readonly #url: string;
  readonly #settings: CursorSettings;
  #body: RangeBody | null = null;
  #requestEnd = 0;
  #leftover: Uint8Array = new Uint8Array(0);

  constructor(
    url: string,
    pos: number,
    end: number,
    announced: boolean,
    settings: CursorSettings,
  ) {
    this.#url = url;
    this.announced = announced;
    this.pos = pos;
    this.nextPos = pos;
    this.end = end;
    this.#settings = settings;
  }

  /** Fills `out` with the bytes at `offset` (at or after `pos`), dropping any gap before it. */
  async fill(offset: number, out: Uint8Array): Promise<void> {
    const { policy } = this.#settings;
    let failures = 0;
    let filled = 0;
    const gapStart = this.pos;
    const gap = this.announced && offset > this.pos && offset - this.pos <= MAX_STASH_BYTES
      ? new Uint8Array(offset - this.pos)
      : null;
    try {
      if (this.failure !== undefined) throw this.failure;
      if (offset < this.pos) throw new RangeError("cursor read behind its position");
      while (filled < out.length) {
        try {
          if (this.#leftover.length === 0) await this.#refill();
        } catch (error) {
          if (!(error instanceof TransientHttpError)) throw error;
          this.#closeBody();
          if (++failures > policy.retries) throw gaveUp(this.#url, failures, error);
          await backoff(policy, failures - 1);
          continue;
        }
        failures = 0;
        const piece = this.#leftover;
        let use = piece.length;
        if (this.pos < offset) {
          use = Math.min(use, offset - this.pos);
          gap?.set(piece.subarray(0, use), this.pos - gapStart);
          if (gap && this.pos + use === offset) this.#settings.stash.put(gapStart, gap);
        } else {
          use = Math.min(use, out.length - filled);
          out.set(piece.subarray(0, use), filled);
          filled += use;
        }
        if (this.riders.length > 0) this.#feedRiders(piece.subarray(0, use));
        this.#leftover = piece.subarray(use);
        this.pos += use;
      }
    } catch (error) {
      this.failed = true;
      this.failure ??= error;
      for (const rider of this.riders.splice(0)) rider.reject(error);
      throw error;
    }
  }

  /** Copies `bytes` (at `pos`) into the riders that want them; settles those now complete. */
  #feedRiders(bytes: Uint8Array): void {
    const start = this.pos;
    const end = start + bytes.length;
    const waiting: Rider[] = [];
    for (const rider of this.riders) {
      const from = Math.max(start, rider.offset);
      const to = Math.min(end, rider.end);
      if (from < to) rider.out.set(bytes.subarray(from - start, to - start), from - rider.offset);
      if (rider.end <= end) rider.resolve();
      else waiting.push(rider);
    }
    this.riders = waiting;
  }

  /** Gets the next piece of the body, opening the next segment's request when needed. */
  async #refill(): Promise<void> {
    const { version, policy, segmentBytes } = this.#settings;
    if (this.#body === null) {
      if (this.pos >= this.end) throw new RangeError("cursor read past its end");
      this.#requestEnd = Math.min(this.end, this.pos + segmentBytes);
      this.#body = await fetchRange(this.#url, this.pos, this.#requestEnd, version, policy);
    }
    const { done, value } = await readPiece(this.#body, policy.timeoutMs);
    if (done) {
      this.#body = null;
      if (this.pos < this.#requestEnd) {
        throw new TransientHttpError(
          `the body ended at byte ${this.pos}, expected ${this.#requestEnd}`,
        );
      }
      return;
    }
    const room = this.#requestEnd - this.pos;
    this.#leftover = value;
    if (value.length >= room) {
      // The segment is complete: read its end so that the connection goes back to the pool.
      this.#leftover = value.subarray(0, room);
      const body = this.#body;
      this.#body = null;
      void body.reader.read().catch(() => {});
    }
  }

  #closeBody(): void {
    if (this.#body) {
      this.#body.abort();
      this.#body.reader.cancel().catch(() => {});
    }
    this.#body = null;
    this.#leftover = new Uint8Array(0);
  }

  /** Stops the pass, dropping its connection if a body is still open. */
  cancel(): void {
    this.failed = true;
    this.#closeBody();
  }
}
