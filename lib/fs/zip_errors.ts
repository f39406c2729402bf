/**
 * How the zip bridge reports trouble: zip.js and OS errors wrapped as WimkitError with the file
 * and path, and the texts of its counted warnings.
 */

import { WimkitError, type WimkitErrorCode } from "../errors.ts";
import type { Warning, WarningCode, WarningTally } from "../progress.ts";

const WARNINGS: Partial<Record<WarningCode, string>> = {
  "unsafe-name": "Skipped {n} zip entries with unsafe names (first: {e})",
  "dropped-name": "Skipped {n} zip entries whose names are already used (first: {e})",
  "encrypted-file": "Skipped {n} encrypted zip entries (first: {e})",
  "special-file": "Skipped {n} zip entries that are symbolic links (first: {e})",
  "unsupported-reparse": "Skipped {n} links and other reparse points (first: {e})",
  "named-streams": "Ignored the named data streams of {n} files (first: {e})",
};

/**
 * The warnings of `tally` with the zip bridge's texts.
 *
 * @example
 * ```ts ignore
 * const warnings = zipWarnings(builder.tally);
 * ```
 */
export function zipWarnings(tally: WarningTally): Warning[] {
  return tally.warnings((n, code, example) =>
    (WARNINGS[code] ?? "{n} {e}").replace("{n}", String(n)).replace("{e}", example)
  );
}

/**
 * Wraps zip.js and OS errors as WimkitError with context; WimkitErrors and aborts pass unchanged.
 *
 * @example
 * ```ts ignore
 * throw wrapError(error, `Cannot read zip "${path}"`, path);
 * ```
 */
export function wrapError(error: unknown, prefix: string, file: string, path?: string): Error {
  if (error instanceof WimkitError) return error;
  if (error instanceof DOMException && error.name === "AbortError") return error;
  let code: WimkitErrorCode = "format";
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.NotFound) {
    code = "not-found";
    reason = "no such file or directory";
  } else if (error instanceof Deno.errors.PermissionDenied) {
    code = "io";
    reason = "permission denied";
  } else if (
    error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.IsADirectory
  ) {
    code = "io";
  } else if (/crc32|signature/i.test(reason)) {
    code = "integrity";
  }
  return new WimkitError(`${prefix}: ${reason}`, code, {
    file,
    ...(path === undefined ? {} : { path }),
    cause: error,
  });
}
