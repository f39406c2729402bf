/**
 * Expands a `--ref` glob (wildcards in the file name only, e.g. "install*.swm") to paths; an
 * http(s) URL is taken as is (a server has no directory listing to match against).
 */

import { UsageError } from "./errors.ts";

/**
 * Returns the files matching `pattern`, sorted; a pattern without wildcards, or a URL, is
 * returned as is.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./refs.ts";
 * import assert from "node:assert/strict";
 * assert.ok(globToRegExp("a*.swm").test("a2.swm"));
 * ```
 */
export function expandRefs(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[]/.test(pattern) || /^https?:\/\//i.test(pattern)) {
      out.push(pattern);
      continue;
    }
    const slash = pattern.lastIndexOf("/");
    const dir = slash >= 0 ? pattern.slice(0, slash) || "/" : ".";
    const re = globToRegExp(pattern.slice(slash + 1));
    const matches: string[] = [];
    try {
      for (const entry of Deno.readDirSync(dir)) {
        if (re.test(entry.name)) matches.push(slash >= 0 ? `${dir}/${entry.name}` : entry.name);
      }
    } catch {
      // an unreadable directory matches nothing
    }
    if (matches.length === 0) throw new UsageError(`--ref "${pattern}" matches no file`);
    out.push(...matches.sort());
  }
  return out;
}

/** Converts a shell wildcard pattern (`*`, `?`, `[...]`) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
