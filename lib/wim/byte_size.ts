/** Parses human-written sizes such as "10G", "500M", "1.5GiB" (for `--cache-max`). */

import { WimkitError } from "../errors.ts";

const POWERS: Record<string, number> = { "": 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * Parses a size in bytes: a number with an optional unit, as GNU tools read them. `K`, `M`, `G`,
 * `T`, `P` alone or with `iB` are powers of 1024 ("10G" and "10GiB" are 10 × 2^30); with `B` alone
 * they are powers of 1000 ("10GB" is 10^10). No unit, or `B`, means bytes. Case is ignored.
 *
 * @throws {WimkitError} code "usage" when the text is not a size.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseByteSize("500M"), 500 * 2 ** 20);
 * assert.equal(parseByteSize("1.5GiB"), 1.5 * 2 ** 30);
 * assert.equal(parseByteSize("2GB"), 2e9);
 * assert.equal(parseByteSize("4096"), 4096);
 * ```
 */
export function parseByteSize(text: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? "";
  const suffix = match?.[3]?.toLowerCase() ?? "";
  if (!match || (unit === "" && suffix === "ib")) throw invalid(text);
  const base = unit !== "" && suffix === "b" ? 1000 : 1024;
  const bytes = Math.floor(Number(match[1]) * base ** POWERS[unit]!);
  if (!Number.isSafeInteger(bytes)) throw invalid(text);
  return bytes;
}

function invalid(text: string): WimkitError {
  return new WimkitError(
    `Cannot read size "${text}": expected a number of bytes with an optional unit K, M, G or T, e.g. "10G" or "500MiB"`,
    "usage",
  );
}
