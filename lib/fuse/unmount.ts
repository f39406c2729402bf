/**
 * The `unmount` side: asks the mount process of a mount point to commit or discard and unmount,
 * or, when that process is gone and left a dead FUSE mount behind, detaches the mount.
 */

import { WimkitError } from "../errors.ts";
import {
  canonicalMountpoint,
  controlSocketPath,
  sendUnmountRequest,
  type UnmountRequest,
  type UnmountResponse,
} from "./control.ts";
import { cString, loadLibc, MNT_DETACH, readProcFile } from "./libc.ts";

/** What {@linkcode unmountImage} did. */
export interface UnmountReport extends UnmountResponse {
  /** The canonical mount point. */
  mountpoint: string;
  /** True when no mount process answered and a dead mount was detached (changes are lost). */
  stale: boolean;
}

/** File system type wimkit mounts with. */
export const FUSE_FS_TYPE = "fuse.wimkit";

/**
 * True when `/proc/self/mountinfo` lists a wimkit FUSE mount at `mountpoint` (canonical).
 *
 * @example
 * ```ts
 * import { isWimkitMount } from "./unmount.ts";
 * import assert from "node:assert/strict";
 * assert.ok(await isWimkitMount("/definitely/not/mounted") === false);
 * ```
 */
export async function isWimkitMount(mountpoint: string): Promise<boolean> {
  // Deno lets only --allow-all read /proc/self/mountinfo; libc can.
  const libc = loadLibc();
  const table = libc
    ? readProcFile(libc, "/proc/self/mountinfo")
    : await Deno.readTextFile("/proc/self/mountinfo").catch(() => null);
  if (table === null) return false;
  const unescape = (text: string) =>
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  for (const line of table.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const point = left.split(" ")[4];
    const type = right.split(" ")[0];
    if (point !== undefined && unescape(point) === mountpoint && type === FUSE_FS_TYPE) {
      return true;
    }
  }
  return false;
}

/**
 * Asks the mount process of `mountpoint` to commit or discard its changes and unmount.
 *
 * @throws {WimkitError} "not-found" when nothing is mounted there, "io" when the mount process
 *   refuses (busy mount point) or the commit fails.
 *
 * @example Commit the changes of a mount (needs a running `wimkit mount`)
 * ```ts ignore
 * import { unmountImage } from "@wimkit/wimkit";
 * const report = await unmountImage("/mnt/image", { action: "commit" });
 * console.log(report.image, report.newBytes);
 * ```
 */
export async function unmountImage(
  mountpoint: string,
  request: UnmountRequest,
): Promise<UnmountReport> {
  const target = await canonicalMountpoint(mountpoint);
  const response = await sendUnmountRequest(controlSocketPath(target), request);
  if (response) {
    if (!response.ok) {
      throw new WimkitError(
        `Cannot unmount "${mountpoint}": ${response.message ?? "the mount process refused"}`,
        "io",
        { path: mountpoint },
      );
    }
    return { ...response, mountpoint: target, stale: false };
  }
  if (!(await isWimkitMount(target))) {
    throw new WimkitError(`Cannot unmount "${mountpoint}": no wimkit mount there`, "not-found", {
      path: mountpoint,
    });
  }
  const libc = loadLibc();
  if (!libc || libc.umount2(cString(target), MNT_DETACH) !== 0) {
    throw new WimkitError(
      `Cannot unmount "${mountpoint}": its mount process is gone and the mount cannot be detached`,
      "io",
      { path: mountpoint },
    );
  }
  return { ok: true, mountpoint: target, stale: true, action: "discard" };
}
