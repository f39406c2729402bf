/**
 * The exclusive hold a writable view keeps on its WIM: an advisory lock (flock) for the view's
 * life, and a fingerprint of the file (header and size) so a commit refuses to write over changes
 * another program made without locking.
 */

import { WimkitError } from "../errors.ts";
import { WIM_HEADER_SIZE } from "../format/constants.ts";

/** A held lock on a WIM. */
export interface WimLock {
  /**
   * Checks the WIM is as it was when locked (or last remembered).
   *
   * @throws {WimkitError} With code "refused" if another program changed it.
   */
  checkUnchanged(path: string): Promise<void>;
  /** Takes the WIM's current state as the expected one (after our own commit). */
  remember(path: string): Promise<void>;
  /** Unlocks and closes. */
  release(): void;
}

/**
 * Locks the WIM at `path` exclusively (flock), without waiting.
 *
 * @throws {WimkitError} With code "refused" if another writer holds the lock, "not-found" or "io"
 *   if the file cannot be opened.
 *
 * @example
 * ```ts ignore
 * const lock = await lockWim("install.wim");
 * try { await lock.checkUnchanged("install.wim"); } finally { lock.release(); }
 * ```
 */
export async function lockWim(path: string): Promise<WimLock> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    const missing = error instanceof Deno.errors.NotFound;
    throw new WimkitError(
      `Cannot open "${path}" for writing: ${missing ? "no such file" : String(error)}`,
      missing ? "not-found" : "io",
      { file: path, cause: error },
    );
  }
  if (!(await file.tryLock(true))) {
    file.close();
    throw new WimkitError(
      `Cannot open "${path}" for writing: another program holds its lock (a writable view or a wimlib-imagex update)`,
      "refused",
      { file: path },
    );
  }
  let expected = await fingerprint(path);
  return {
    async checkUnchanged(at: string) {
      if ((await fingerprint(at)) !== expected) {
        throw new WimkitError(
          `Cannot commit to "${at}": another program changed it since the view opened it; discard the changes and open it again`,
          "refused",
          { file: at },
        );
      }
    },
    async remember(at: string) {
      expected = await fingerprint(at);
    },
    release() {
      try {
        file.unlockSync();
      } catch { /* closing releases it anyway */ }
      file.close();
    },
  };
}

async function fingerprint(path: string): Promise<string> {
  await using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const header = new Uint8Array(WIM_HEADER_SIZE);
  let done = 0;
  while (done < header.length) {
    const n = await file.read(header.subarray(done));
    if (n === null) break;
    done += n;
  }
  return `${size}:${header.subarray(0, done).join(",")}`;
}
