/**
 * A mounted FUSE file system served from Deno: opens /dev/fuse, mounts it with mount(2), and
 * runs the request loop until the kernel ends the connection (unmount by us, by `umount` or
 * `fusermount3 -u`, or an abort).
 *
 * Why the kernel protocol and not libfuse3: libfuse drives the file system through C callbacks
 * on its own threads, which from Deno means `Deno.UnsafeCallback`s invoked from foreign
 * threads; they must hop back to the isolate's thread and any mistake deadlocks or crashes the
 * process. Speaking the protocol on /dev/fuse needs only read(2) and write(2): requests are
 * plain structs (protocol.ts), each blocking read runs as a `nonblocking` FFI call on a pool
 * thread, and every handler runs on the JavaScript thread like any async code. The cost is
 * doing mount(2) ourselves, which needs root (CAP_SYS_ADMIN); unprivileged mounts through
 * fusermount3 are not implemented and are refused with a clear message.
 */

import { WimkitError } from "../errors.ts";
import {
  connectionAborted,
  cString,
  Errno,
  lastErrno,
  type LibcSymbols,
  loadLibc,
  MNT_DETACH,
  MS_NODEV,
  MS_NOSUID,
  MS_RDONLY,
  O_CLOEXEC,
  O_RDWR,
} from "./libc.ts";
import { MAX_WRITE_BYTES } from "./dispatch.ts";

/** Room for the largest WRITE request plus its headers. */
const READ_BUFFER_BYTES = MAX_WRITE_BYTES + 64 * 1024;
/** Reads kept waiting on the device at once (each occupies one blocking-pool thread). */
const READERS = 2;
/** Failed reads in a row, on a live connection, before the session gives up. */
const MAX_READ_FAILURES = 1000;

/** Options of {@linkcode FuseSession.mount}. */
export interface MountOptions {
  /** Mount read-only (MS_RDONLY). */
  readOnly: boolean;
  /** The "source" shown in /proc/mounts (default "wimkit"). */
  source?: string;
}

/** Handles one request's bytes; resolves to the reply to write, or null for none. */
export type RequestHandler = (request: Uint8Array) => Promise<Uint8Array | null>;

/** Why FUSE cannot be used here, or null when it can. */
export function fuseUnavailableReason(): string | null {
  if (Deno.build.os !== "linux") return `FUSE mounts need Linux (this is ${Deno.build.os})`;
  try {
    Deno.statSync("/dev/fuse");
  } catch (error) {
    // Without --allow-all Deno refuses to stat device files (NotCapable): open(2) will tell.
    if (error instanceof Deno.errors.NotFound) {
      return "FUSE is not available: /dev/fuse does not exist (load the fuse module or install fuse3)";
    }
  }
  if (loadLibc() === null) return "FUSE mounts need --allow-ffi and libc.so.6";
  if (Deno.uid() !== 0) {
    return "mount needs root: wimkit mounts with mount(2) and does not use fusermount3";
  }
  return null;
}

/** One mounted FUSE file system and its /dev/fuse connection. */
export class FuseSession {
  readonly mountpoint: string;
  readonly #libc: LibcSymbols;
  readonly #fd: number;
  #mounted = true;
  #closed = false;

  private constructor(libc: LibcSymbols, fd: number, mountpoint: string) {
    this.#libc = libc;
    this.#fd = fd;
    this.mountpoint = mountpoint;
  }

  /**
   * Opens /dev/fuse and mounts it on `mountpoint` (an existing directory).
   *
   * @throws {WimkitError} "refused" when FUSE cannot be used here, "io" when mount(2) fails.
   *
   * @example Mount and unmount (needs root and /dev/fuse)
   * ```ts ignore
   * const session = FuseSession.mount("/mnt/image", { readOnly: true });
   * const done = session.serve(handler);
   * session.unmount();
   * await done;
   * ```
   */
  static mount(mountpoint: string, options: MountOptions): FuseSession {
    const reason = fuseUnavailableReason();
    if (reason) throw new WimkitError(reason, "refused");
    const libc = loadLibc()!;
    const fd = libc.open(cString("/dev/fuse"), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const errno = lastErrno(libc);
      const why = errno === Errno.ENOENT
        ? "FUSE is not available: /dev/fuse does not exist"
        : errno === Errno.EACCES || errno === Errno.EPERM
        ? "mount needs root: /dev/fuse cannot be opened"
        : `Cannot open "/dev/fuse": errno ${errno}`;
      throw new WimkitError(why, "refused");
    }
    const uid = Deno.uid() ?? 0;
    const gid = Deno.gid() ?? 0;
    const data = `fd=${fd},rootmode=40000,user_id=${uid},group_id=${gid},` +
      "default_permissions,allow_other";
    const flags = MS_NOSUID | MS_NODEV | (options.readOnly ? MS_RDONLY : 0);
    const rc = libc.mount(
      cString(options.source ?? "wimkit"),
      cString(mountpoint),
      cString("fuse.wimkit"),
      BigInt(flags),
      cString(data),
    );
    if (rc !== 0) {
      const errno = lastErrno(libc);
      libc.close(fd);
      throw new WimkitError(
        `Cannot mount on "${mountpoint}": ${mountErrorText(errno)}`,
        errno === Errno.EPERM ? "refused" : "io",
        { path: mountpoint },
      );
    }
    return new FuseSession(libc, fd, mountpoint);
  }

  /** True until the kernel connection has ended. */
  get mounted(): boolean {
    return this.#mounted;
  }

  /**
   * Serves requests until the connection ends (the mount is gone); then closes the device.
   * Handlers run concurrently; their replies are written as they complete.
   */
  async serve(handler: RequestHandler): Promise<void> {
    const pending = new Set<Promise<void>>();
    const reader = async () => {
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      let failures = 0;
      while (!this.#closed) {
        const count = Number(await this.#libc.read(this.#fd, buffer, BigInt(buffer.length)));
        if (count < 0) {
          if (this.#closed || connectionAborted(this.#libc, this.#fd)) return;
          if (++failures > MAX_READ_FAILURES) {
            throw new WimkitError("Cannot read from /dev/fuse: reads keep failing", "io");
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        failures = 0;
        const job = handler(buffer.slice(0, count)).then((reply) => {
          if (reply && !this.#closed) this.#libc.write(this.#fd, reply, BigInt(reply.length));
        });
        pending.add(job);
        job.finally(() => pending.delete(job));
      }
    };
    try {
      await Promise.all(Array.from({ length: READERS }, reader));
      await Promise.allSettled(pending);
    } finally {
      this.#mounted = false;
      this.#close();
    }
  }

  /**
   * Unmounts; with `lazy`, detaches even when busy (MNT_DETACH). The serve loop then ends.
   *
   * @throws {WimkitError} "io" when the mount is busy or already gone.
   */
  unmount(lazy = false): void {
    const rc = this.#libc.umount2(cString(this.mountpoint), lazy ? MNT_DETACH : 0);
    if (rc !== 0) {
      const errno = lastErrno(this.#libc);
      const why = errno === Errno.EBUSY
        ? "the mount is busy (close files and leave the directory first)"
        : `errno ${errno}`;
      throw new WimkitError(`Cannot unmount "${this.mountpoint}": ${why}`, "io", {
        path: this.mountpoint,
      });
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.close(this.#fd);
  }
}

function mountErrorText(errno: number): string {
  switch (errno) {
    case Errno.EPERM:
      return "mount(2) is not permitted here (needs root or CAP_SYS_ADMIN)";
    case Errno.ENOENT:
      return "no such directory";
    case Errno.ENOTDIR:
      return "not a directory";
    case Errno.ENODEV:
      return "the kernel has no FUSE support";
    default:
      return `mount(2) failed with errno ${errno}`;
  }
}
