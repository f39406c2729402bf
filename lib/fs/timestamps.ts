/**
 * File times at 100 ns precision. Deno's own stat and utime round to milliseconds (stack.md §7),
 * so with `--allow-ffi` wimkit calls libc's `utimensat` and `statx` directly; without it, times
 * fall back to milliseconds and {@linkcode preciseTimes} reports false so callers can warn once.
 */

/** 100-ns ticks between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFFERENCE_TICKS = 116444736000000000n;
const TICKS_PER_SECOND = 10_000_000n;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const STATX_SIZE = 256;
const STATX_ATIME_OFFSET = 64;
const STATX_MTIME_OFFSET = 112;

/** A point in time as whole seconds and nanoseconds since 1970 (seconds may be negative). */
export interface UnixTime {
  readonly seconds: bigint;
  readonly nanoseconds: number;
}

/**
 * Converts a FILETIME (100 ns ticks since 1601) to Unix seconds and nanoseconds.
 *
 * @example
 * ```ts
 * import { filetimeToUnix } from "./timestamps.ts";
 * import assert from "node:assert/strict";
 * const t = filetimeToUnix(132224078451234567n);
 * assert.ok(t.seconds === 1577934245n && t.nanoseconds === 123456700);
 * ```
 */
export function filetimeToUnix(filetime: bigint): UnixTime {
  const ticks = filetime - EPOCH_DIFFERENCE_TICKS;
  let seconds = ticks / TICKS_PER_SECOND;
  let rest = ticks % TICKS_PER_SECOND;
  if (rest < 0n) {
    rest += TICKS_PER_SECOND;
    seconds -= 1n;
  }
  return { seconds, nanoseconds: Number(rest) * 100 };
}

/**
 * Converts Unix seconds and nanoseconds to a FILETIME (nanoseconds truncated to 100 ns).
 *
 * @example
 * ```ts
 * import { unixToFiletime } from "./timestamps.ts";
 * import assert from "node:assert/strict";
 * assert.ok(unixToFiletime({ seconds: 0n, nanoseconds: 0 }) === 116444736000000000n);
 * ```
 */
export function unixToFiletime(time: UnixTime): bigint {
  return (time.seconds * TICKS_PER_SECOND) + BigInt(Math.floor(time.nanoseconds / 100)) +
    EPOCH_DIFFERENCE_TICKS;
}

type Libc = Deno.DynamicLibrary<{
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"]; result: "i32" };
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"]; result: "i32" };
}>;

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return libc;
    libc = Deno.dlopen("libc.so.6", {
      utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
      statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
    });
  } catch {
    libc = null;
  }
  return libc;
}

/** True when times are set and read at full precision (FFI granted and libc found). */
export function preciseTimes(): boolean {
  return loadLibc() !== null;
}

const encoder = new TextEncoder();

function cString(path: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(path);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Sets a path's access and modification times from FILETIMEs, without following a final symlink.
 *
 * @throws {Error} The OS error when the path cannot be changed.
 */
export function setFileTimes(path: string, accessTime: bigint, writeTime: bigint): void {
  const lib = loadLibc();
  const access = filetimeToUnix(accessTime);
  const write = filetimeToUnix(writeTime);
  if (lib) {
    const times = new BigInt64Array(4);
    times[0] = access.seconds;
    times[1] = BigInt(access.nanoseconds);
    times[2] = write.seconds;
    times[3] = BigInt(write.nanoseconds);
    const rc = lib.symbols.utimensat(
      AT_FDCWD,
      cString(path),
      new Uint8Array(times.buffer),
      AT_SYMLINK_NOFOLLOW,
    );
    if (rc !== 0) throw new Error(`utimensat failed for "${path}"`);
    return;
  }
  const toDate = (t: UnixTime) => new Date(Number(t.seconds) * 1000 + t.nanoseconds / 1e6);
  Deno.utimeSync(path, toDate(access), toDate(write));
}

/** What capture needs to know about a path (lstat semantics), with times as FILETIMEs. */
export interface PreciseStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly ino: bigint;
  readonly dev: bigint;
  readonly rdev: number;
  readonly size: number;
  readonly blocks: number;
  readonly accessTime: bigint;
  readonly writeTime: bigint;
}

const STATX_OFFSETS = {
  nlink: 16,
  uid: 20,
  gid: 24,
  mode: 28,
  ino: 32,
  size: 40,
  blocks: 48,
  rdevMajor: 128,
  rdevMinor: 132,
  devMajor: 136,
  devMinor: 140,
} as const;

const statxBuffer = new Uint8Array(STATX_SIZE);

/**
 * lstat with 100-ns times (statx through FFI when granted, else Deno.lstat at milliseconds).
 *
 * @throws {Error} The OS error (e.g. Deno.errors.NotFound) when the path cannot be read.
 */
export function preciseLstat(path: string): PreciseStat {
  const lib = loadLibc();
  if (lib) {
    const rc = lib.symbols.statx(
      AT_FDCWD,
      cString(path),
      AT_SYMLINK_NOFOLLOW,
      STATX_BASIC_STATS,
      statxBuffer,
    );
    if (rc === 0) {
      const view = new DataView(statxBuffer.buffer);
      const time = (offset: number) =>
        unixToFiletime({
          seconds: view.getBigInt64(offset, true),
          nanoseconds: view.getUint32(offset + 8, true),
        });
      const o = STATX_OFFSETS;
      return {
        mode: view.getUint16(o.mode, true),
        uid: view.getUint32(o.uid, true),
        gid: view.getUint32(o.gid, true),
        nlink: view.getUint32(o.nlink, true),
        ino: view.getBigUint64(o.ino, true),
        dev: (BigInt(view.getUint32(o.devMajor, true)) << 32n) |
          BigInt(view.getUint32(o.devMinor, true)),
        rdev: ((view.getUint32(o.rdevMajor, true) & 0xfff) << 8) |
          (view.getUint32(o.rdevMinor, true) & 0xff) |
          ((view.getUint32(o.rdevMinor, true) & ~0xff) << 12),
        size: Number(view.getBigUint64(o.size, true)),
        blocks: Number(view.getBigUint64(o.blocks, true)),
        accessTime: time(STATX_ATIME_OFFSET),
        writeTime: time(STATX_MTIME_OFFSET),
      };
    }
  }
  const info = Deno.lstatSync(path);
  return {
    mode: info.mode ?? 0,
    uid: info.uid ?? 0,
    gid: info.gid ?? 0,
    nlink: info.nlink ?? 1,
    ino: BigInt(info.ino ?? 0),
    dev: BigInt(info.dev ?? 0),
    rdev: info.rdev ?? 0,
    size: info.size,
    blocks: info.blocks ?? 0,
    accessTime: dateToFiletime(info.atime),
    writeTime: dateToFiletime(info.mtime),
  };
}

function dateToFiletime(date: Date | null): bigint {
  const ms = BigInt(date?.getTime() ?? 0);
  let seconds = ms / 1000n;
  let rest = ms % 1000n;
  if (rest < 0n) {
    rest += 1000n;
    seconds -= 1n;
  }
  return unixToFiletime({ seconds, nanoseconds: Number(rest) * 1e6 });
}

/** Access and modification times of a path as FILETIMEs (lstat semantics). */
export function getFileTimes(path: string): { accessTime: bigint; writeTime: bigint } {
  const { accessTime, writeTime } = preciseLstat(path);
  return { accessTime, writeTime };
}
