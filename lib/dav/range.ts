/**
 * The HTTP Range header (RFC 7233 §2.1, §4.4) for GET: one byte range, suffix ranges, and the
 * unsatisfiable case. A list of several ranges is served as the whole file (RFC 7233 allows a
 * server to ignore Range), which keeps responses single-part.
 */

/** What to send for a Range header on a file of a given size. */
export type RangeDecision =
  | { readonly type: "full" }
  | { readonly type: "partial"; readonly start: number; readonly end: number }
  | { readonly type: "unsatisfiable" };

/**
 * Decides the byte range to serve; `end` is exclusive.
 *
 * @param header The Range header, or null.
 * @param size The file's size in bytes.
 *
 * @example
 * ```ts
 * import { parseRange } from "./range.ts";
 * import assert from "node:assert/strict";
 * const r = parseRange("bytes=-100", 1000);
 * assert.ok(r.type === "partial" && r.start === 900 && r.end === 1000);
 * assert.ok(parseRange("bytes=1000-", 1000).type === "unsatisfiable");
 * ```
 */
export function parseRange(header: string | null, size: number): RangeDecision {
  if (header === null) return { type: "full" };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { type: "full" };
  const specs = match[1]!.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length !== 1) return { type: "full" };
  const spec = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === "" && spec[2] === "")) return { type: "full" };
  if (spec[1] === "") {
    const suffix = Number(spec[2]);
    if (suffix === 0 || size === 0) return { type: "unsatisfiable" };
    return { type: "partial", start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(spec[1]);
  const last = spec[2] === "" ? size - 1 : Number(spec[2]);
  if (start >= size) return { type: "unsatisfiable" };
  if (last < start) return { type: "full" };
  return { type: "partial", start, end: Math.min(last, size - 1) + 1 };
}
