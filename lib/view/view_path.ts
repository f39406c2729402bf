/**
 * Image paths of a view: "/"-separated, "/" the root. Empty components and "." are dropped;
 * "..", NUL, backslashes, unpaired surrogates and over-long names are refused, so no path can
 * leave the image or create a name another tool would read as a separator. Names are
 * case-sensitive and kept exactly.
 */

import { ViewError } from "./types.ts";

/** Longest path accepted, in UTF-16 code units (Windows' long-path limit). */
export const MAX_PATH_LENGTH = 32767;
/** Longest name accepted, in UTF-16 code units (the NTFS limit). */
export const MAX_NAME_LENGTH = 255;

/**
 * Splits `path` into its names.
 *
 * @throws {ViewError} With reason "invalid" for "..", NUL, "\\" or over-long names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitViewPath } from "./view_path.ts";
 * assert.ok(splitViewPath("/a//b/./c/").join("|") === "a|b|c");
 * ```
 */
export function splitViewPath(path: string): string[] {
  if (typeof path !== "string") throw new TypeError("path must be a string");
  if (path.length > MAX_PATH_LENGTH) {
    throw new ViewError(`Cannot use a path of ${path.length} characters`, "invalid", path);
  }
  const names: string[] = [];
  for (const name of path.split("/")) {
    if (name === "" || name === ".") continue;
    const why = nameProblem(name);
    if (why) {
      throw new ViewError(`Cannot use the path "${printable(path)}": ${why}`, "invalid", path);
    }
    names.push(name);
  }
  return names;
}

/** The canonical form of a path ("/a/b"). */
export function joinViewPath(names: readonly string[]): string {
  return "/" + names.join("/");
}

/** Why `name` cannot be a name in the image, or null. */
function nameProblem(name: string): string | null {
  if (name === "..") return '".." is not allowed';
  if (name.includes("\0")) return "a name contains NUL";
  if (name.includes("\\")) return "a name contains a backslash";
  if (name.length > MAX_NAME_LENGTH) return `a name is longer than ${MAX_NAME_LENGTH} characters`;
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) {
    return "a name has an unpaired surrogate";
  }
  return null;
}

function printable(path: string): string {
  return path.replace(/\0/g, "\\0");
}
