/**
 * Which names from an image may become host paths, and how link targets map to the host.
 * Nothing here touches the filesystem.
 */

/**
 * Returns why `name` cannot be a single path component on a POSIX host, or null when it can.
 * Refused: empty, ".", "..", and names containing "/", "\" or NUL.
 *
 * @example
 * ```ts
 * import { unsafeNameReason } from "./safe_path.ts";
 * import assert from "node:assert/strict";
 * assert.ok(unsafeNameReason("..") !== null && unsafeNameReason("a.txt") === null);
 * ```
 */
export function unsafeNameReason(name: string): string | null {
  if (name === "" || name === "." || name === "..") return `the name "${name}" is not a file name`;
  if (name.includes("/")) return 'the name contains "/"';
  if (name.includes("\\")) return 'the name contains "\\"';
  if (name.includes("\0")) return "the name contains NUL";
  return null;
}

/** Prefixes that mark an absolute NT path in a link target. */
const NT_PREFIXES = ["\\??\\", "\\DosDevices\\", "\\Device\\", "\\\\?\\"];

/**
 * Turns a stored link target into the POSIX target to create (wim-format.md §8.4, §8.5).
 *
 * Relative targets swap `\` for `/`. Absolute targets drop the NT prefix and drive (`\??\C:`);
 * when `fixup` is true (header RP_FIX set and the link not marked NOT_FIXED) they are rebased onto
 * `targetRoot`, otherwise onto `/`.
 *
 * @example
 * ```ts
 * import { linkTargetForHost } from "./safe_path.ts";
 * import assert from "node:assert/strict";
 * assert.ok(linkTargetForHost("\\??\\C:\\dir\\a", false, true, "/dst") === "/dst/dir/a");
 * assert.ok(linkTargetForHost("dir1\\b.txt", true, false, "/dst") === "dir1/b.txt");
 * ```
 */
export function linkTargetForHost(
  stored: string,
  relative: boolean,
  fixup: boolean,
  targetRoot: string,
): string {
  if (relative) return swapSeparators(stored);
  let path = stored;
  for (const prefix of NT_PREFIXES) {
    if (path.startsWith(prefix)) {
      path = path.slice(prefix.length);
      if (prefix === "\\Device\\") path = path.replace(/^[^\\]*/, "");
      break;
    }
  }
  path = path.replace(/^[A-Za-z]:/, "");
  const rest = swapSeparators(path).replace(/^\/+/, "");
  const base = fixup ? targetRoot.replace(/\/+$/, "") : "";
  return rest === "" ? (base || "/") : `${base}/${rest}`;
}

/** Swaps `\` and `/`, as wimlib does so that a backslash in a POSIX name survives. */
function swapSeparators(path: string): string {
  return path.replace(/[\\/]/g, (c) => (c === "\\" ? "/" : "\\"));
}
