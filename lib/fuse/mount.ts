/**
 * Mounts an image view on a Linux directory with FUSE and manages its life: the request loop,
 * the control socket `unmount` talks to, and the end of the mount (commit, discard, an
 * external `umount`, or a stop on a signal).
 */

import { WimkitError } from "../errors.ts";
import type { CommitResult, ImageView } from "../view/types.ts";
import { type ServeOptions } from "./context.ts";
import {
  canonicalMountpoint,
  type ControlServer,
  controlSocketPath,
  serveControl,
  type UnmountRequest,
  type UnmountResponse,
} from "./control.ts";
import { FuseDispatcher } from "./dispatch.ts";
import { FuseSession } from "./session.ts";

/** Options of {@linkcode mountImageView}. */
export interface MountImageOptions extends ServeOptions {
  /** The WIM behind the view: refused when it lies inside the mount point (a deadlock). */
  wimPath?: string;
  /** The "source" shown in /proc/mounts (default "wimkit"). */
  source?: string;
}

/** How a mount ended. */
export interface MountOutcome {
  /** "commit"/"discard": asked by `unmount`; "unmounted": umount by hand; "stopped": stop(). */
  how: "commit" | "discard" | "unmounted" | "stopped";
  /** The commit's result when changes were committed. */
  commit?: CommitResult;
  /** True when uncommitted changes were dropped. */
  discardedChanges: boolean;
  /** The error of a failed commit (the changes are lost with the mount). */
  error?: unknown;
}

/** A mounted image. */
export interface ImageMount {
  /** The canonical mount point. */
  readonly mountpoint: string;
  /** The control socket `unmount` connects to. */
  readonly controlPath: string;
  /** Resolves when the mount has ended and the changes are committed or dropped. */
  readonly finished: Promise<MountOutcome>;
  /** Detaches the mount (lazily) and drops the changes; resolves like {@linkcode finished}. */
  stop(): Promise<MountOutcome>;
  /** Detaches the mount lazily right now, synchronously (for exit paths). */
  detachNow(): void;
}

/**
 * Mounts `view` on `mountpoint` (an existing directory) and serves it until unmounted.
 *
 * @throws {WimkitError} "refused" when FUSE cannot be used here (not Linux, no /dev/fuse, not
 * root), when the mount point is already served, or when the WIM lies inside it.
 *
 * @example Mount an image read-only (needs root and /dev/fuse)
 * ```ts ignore
 * import { mountImageView, openImageView } from "@wimkit/wimkit";
 * await using view = await openImageView("install.wim", 1);
 * const mount = await mountImageView(view, "/mnt/image");
 * console.log(await Deno.readTextFile("/mnt/image/hello.txt"));
 * await mount.stop();
 * ```
 */
export async function mountImageView(
  view: ImageView,
  mountpoint: string,
  options: MountImageOptions = {},
): Promise<ImageMount> {
  const target = await canonicalMountpoint(mountpoint);
  const info = await Deno.stat(target).catch(() => null);
  if (!info?.isDirectory) {
    throw new WimkitError(`Cannot mount on "${mountpoint}": not a directory`, "not-found", {
      path: mountpoint,
    });
  }
  if (options.wimPath) {
    const wim = await canonicalMountpoint(options.wimPath);
    if (wim.startsWith(target + "/") || target === "/") {
      throw new WimkitError(
        `Cannot mount on "${mountpoint}": the WIM "${options.wimPath}" is inside the mount point`,
        "refused",
      );
    }
  }
  const controlPath = controlSocketPath(target);
  const state = { ending: false, outcome: null as MountOutcome | null };
  const control: ControlServer = await serveControl(
    controlPath,
    (request) => onRequest(request),
    () => {
      if (state.outcome) void end(state.outcome);
    },
  );
  let session: FuseSession;
  try {
    session = FuseSession.mount(target, {
      readOnly: !view.writable,
      source: options.source ?? "wimkit",
    });
  } catch (error) {
    await control[Symbol.asyncDispose]();
    throw error;
  }
  const dispatcher = new FuseDispatcher(view, options);
  const served = session.serve((bytes) => dispatcher.handle(bytes));

  let finish!: (outcome: MountOutcome) => void;
  const finished = new Promise<MountOutcome>((resolve) => (finish = resolve));
  const end = async (outcome: MountOutcome) => {
    await control[Symbol.asyncDispose]();
    finish(outcome);
  };

  async function dropChanges(how: MountOutcome["how"]): Promise<MountOutcome> {
    const dirty = view.dirty;
    if (dirty) await view.discard();
    return { how, discardedChanges: dirty };
  }

  async function onRequest(request: UnmountRequest): Promise<UnmountResponse> {
    if (state.ending) return { ok: false, message: "the mount is already ending" };
    state.ending = true;
    try {
      session.unmount(false);
    } catch (error) {
      state.ending = false;
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    await served.catch(() => {});
    const changed = view.dirty;
    let outcome: MountOutcome;
    let response: UnmountResponse;
    if (request.action === "commit" && changed) {
      try {
        const commit = await view.commit(request.newImage ? { newImage: request.newImage } : {});
        outcome = { how: "commit", commit, discardedChanges: false };
        response = { ok: true, action: "commit", changed, ...commit };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcome = { how: "commit", discardedChanges: true, error };
        response = { ok: false, message };
      }
    } else {
      outcome = await dropChanges(request.action === "commit" ? "commit" : "discard");
      response = { ok: true, action: request.action, changed };
    }
    state.outcome = outcome;
    return response;
  }

  // An unmount not asked through the control socket (umount, fusermount3 -u, stop()).
  served.then(async () => {
    if (state.ending) return;
    state.ending = true;
    await end(await dropChanges("unmounted"));
  }, async (error) => {
    state.ending = true;
    await end({ how: "unmounted", discardedChanges: view.dirty, error });
  });

  return {
    mountpoint: target,
    controlPath,
    finished,
    async stop() {
      if (!state.ending) {
        state.ending = true;
        session.unmount(true);
        await served.catch(() => {});
        await end(await dropChanges("stopped"));
      }
      return await finished;
    },
    detachNow() {
      if (session.mounted) {
        try {
          session.unmount(true);
        } catch {
          // Already gone.
        }
      }
    },
  };
}
