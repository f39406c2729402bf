/**
 * Routes each FUSE request to its handler and turns the outcome into reply bytes: INIT
 * negotiation, the read and write operations, -ENOSYS for anything else (extended attributes,
 * locks, ioctl...). Reads run concurrently; changes run one at a time in arrival order, so two
 * writes to one file never interleave inside the view.
 */

import { errnoFor, FuseContext, FuseErrno, type Reply, type ServeOptions } from "./context.ts";
import { Errno } from "./libc.ts";
import * as readOps from "./ops_read.ts";
import * as writeOps from "./ops_write.ts";
import {
  encodeReply,
  FuseRequest,
  INIT_OUT_SIZE,
  InitFlag,
  KERNEL_MAJOR,
  KERNEL_MINOR,
  Opcode,
  ReplyWriter,
} from "./protocol.ts";
import type { ImageView } from "../view/types.ts";

/** Largest WRITE the kernel may send (and READ it may ask for), in bytes. */
export const MAX_WRITE_BYTES = 1 << 20;
/** Pages per request matching {@linkcode MAX_WRITE_BYTES}. */
const MAX_PAGES = MAX_WRITE_BYTES / 4096;
const WANTED_FLAGS = InitFlag.ASYNC_READ | InitFlag.BIG_WRITES | InitFlag.PARALLEL_DIROPS |
  InitFlag.MAX_PAGES;

type Handler = (context: FuseContext, request: FuseRequest) => Reply | Promise<Reply>;

const READ_HANDLERS = new Map<number, Handler>([
  [Opcode.LOOKUP, readOps.lookup],
  [Opcode.FORGET, readOps.forget],
  [Opcode.BATCH_FORGET, readOps.batchForget],
  [Opcode.GETATTR, readOps.getattr],
  [Opcode.READLINK, readOps.readlink],
  [Opcode.OPEN, readOps.open],
  [Opcode.READ, readOps.read],
  [Opcode.OPENDIR, readOps.opendir],
  [Opcode.READDIR, readOps.readdir],
  [Opcode.RELEASEDIR, readOps.releasedir],
  [Opcode.STATFS, readOps.statfs],
  [Opcode.RELEASE, readOps.nothing],
  [Opcode.FLUSH, readOps.nothing],
  [Opcode.FSYNC, readOps.nothing],
  [Opcode.FSYNCDIR, readOps.nothing],
  [Opcode.ACCESS, readOps.nothing],
  [Opcode.DESTROY, readOps.nothing],
  [Opcode.INTERRUPT, () => null],
]);

const WRITE_HANDLERS = new Map<number, Handler>([
  [Opcode.SETATTR, writeOps.setattr],
  [Opcode.CREATE, writeOps.create],
  [Opcode.MKNOD, writeOps.mknod],
  [Opcode.WRITE, writeOps.write],
  [Opcode.MKDIR, writeOps.mkdir],
  [Opcode.SYMLINK, writeOps.symlink],
  [Opcode.UNLINK, writeOps.unlink],
  [Opcode.RMDIR, writeOps.rmdir],
  [Opcode.RENAME, (context, request) => writeOps.rename(context, request, false)],
  [Opcode.RENAME2, (context, request) => writeOps.rename(context, request, true)],
  [Opcode.LINK, () => {
    throw new FuseErrno(Errno.EPERM);
  }],
]);

/** Answers FUSE requests from an image view. */
export class FuseDispatcher {
  readonly context: FuseContext;
  #writeQueue: Promise<unknown> = Promise.resolve();

  constructor(view: ImageView, options: ServeOptions = {}) {
    this.context = new FuseContext(view, options);
  }

  /**
   * The complete reply (header included) to the request in `bytes`, or null when the opcode
   * takes none (FORGET, BATCH_FORGET, INTERRUPT).
   */
  async handle(bytes: Uint8Array): Promise<Uint8Array | null> {
    const request = new FuseRequest(bytes);
    if (request.opcode === Opcode.INIT) return encodeReply(request.unique, 0, init(request));
    const write = WRITE_HANDLERS.get(request.opcode);
    const handler = write ?? READ_HANDLERS.get(request.opcode);
    if (!handler) return encodeReply(request.unique, Errno.ENOSYS);
    try {
      const body = write
        ? await this.#serialized(() => write(this.context, request))
        : await handler(
          this.context,
          request,
        );
      return body === null ? null : encodeReply(request.unique, 0, body);
    } catch (error) {
      const errno = errnoFor(error);
      if (errno === Errno.EIO) this.context.onError(error);
      return encodeReply(request.unique, errno);
    }
  }

  #serialized<T>(run: () => T | Promise<T>): Promise<T> {
    const result = this.#writeQueue.then(run);
    this.#writeQueue = result.catch(() => {});
    return result;
  }
}

/** INIT: accept the kernel's 7.x protocol at our minor version and choose the features. */
function init(request: FuseRequest): Uint8Array {
  const major = request.u32();
  const minor = request.u32();
  const maxReadahead = request.u32();
  const flags = request.u32();
  const out = new ReplyWriter(INIT_OUT_SIZE);
  out.u32(KERNEL_MAJOR);
  if (major !== KERNEL_MAJOR) return out.u32(KERNEL_MINOR).bytes.subarray(0, 8);
  out.u32(Math.min(minor, KERNEL_MINOR)).u32(maxReadahead).u32(flags & WANTED_FLAGS);
  out.u16(16).u16(12); // max_background, congestion_threshold
  out.u32(MAX_WRITE_BYTES).u32(100); // max_write, time_gran (ns): FILETIMEs keep 100 ns
  out.u16(MAX_PAGES).u16(0).u32(0); // max_pages, map_alignment, flags2
  return out.bytes;
}
