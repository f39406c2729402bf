/**
 * Which outside programs the tests can use here. A test that needs one is declared with
 * `Deno.test({ ignore: !hasX })`, so a machine without it reports the test as ignored.
 */

/**
 * True when `command args...` can be started (`succeeds`: and exits 0).
 *
 * @example
 * ```ts
 * import { hasCommand } from "./tools.ts";
 * console.assert(await hasCommand("sh", ["-c", "true"], { succeeds: true }));
 * ```
 */
export async function hasCommand(
  command: string,
  args = ["--version"],
  options: { succeeds?: boolean } = {},
): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success || !options.succeeds;
  } catch {
    return false;
  }
}

/** `wimlib-imagex` (Debian's wimtools), the oracle. */
export const hasWimlib: boolean = await hasCommand("wimlib-imagex", ["--version"], {
  succeeds: true,
});
/** `7zz` (Debian's 7zip). */
export const has7zz: boolean = await hasCommand("7zz", ["i"]);
/** `tmux`, for tests in a real terminal. */
export const hasTmux: boolean = await hasCommand("tmux", ["-V"], { succeeds: true });
/** `rclone`, a WebDAV client. */
export const hasRclone: boolean = await hasCommand("rclone", ["version"], { succeeds: true });
/** `openssl`, to make throwaway certificates. */
export const hasOpenssl: boolean = await hasCommand("openssl", ["version"], { succeeds: true });
