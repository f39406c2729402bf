/**
 * Capture configuration files in the ImageX / wimlib format: sections `[ExclusionList]`,
 * `[ExclusionException]` and `[CompressionExclusionList]`, one pattern per line, `;` or `#`
 * comments. A pattern with a path separator is matched against the whole path from the capture
 * root (leading `\` or `/` optional); one without is matched against the last component. `*` and
 * `?` are wildcards; matching ignores case, as Windows does. An excluded directory is skipped with
 * everything below it, unless an exception matches.
 */

import { WimkitError } from "../errors.ts";

/** A parsed capture configuration. */
export interface CaptureConfig {
  /** Paths not captured. */
  readonly exclude: readonly RegExp[];
  /** Exceptions to `exclude`. */
  readonly exceptions: readonly RegExp[];
  /** Files stored uncompressed. */
  readonly noCompress: readonly RegExp[];
}

type Section = "exclude" | "exceptions" | "noCompress";

const SECTIONS: Record<string, Section> = {
  "exclusionlist": "exclude",
  "exclusionexception": "exceptions",
  "compressionexclusionlist": "noCompress",
};

/**
 * Parses a configuration file's text.
 *
 * @throws {WimkitError} On an unknown section or a pattern outside any section.
 *
 * @example
 * ```ts
 * import { matchesAny, parseCaptureConfig } from "./capture_config.ts";
 * import assert from "node:assert/strict";
 * const config = parseCaptureConfig("[ExclusionList]\n\\pagefile.sys\n*.tmp\n");
 * assert.ok(matchesAny(config.exclude, "/dir/a.TMP") && !matchesAny(config.exclude, "/dir/pagefile.sys"));
 * ```
 */
export function parseCaptureConfig(text: string, file = "capture configuration"): CaptureConfig {
  const config: Record<Section, RegExp[]> = { exclude: [], exceptions: [], noCompress: [] };
  let section: Section | null = null;
  for (const [index, rawLine] of text.replace(/^\uFEFF/, "").split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = SECTIONS[header[1]!.trim().toLowerCase()] ?? null;
      if (!section) {
        throw new WimkitError(
          `Cannot read "${file}": unknown section [${header[1]}] on line ${index + 1}`,
          "usage",
          {
            file,
          },
        );
      }
      continue;
    }
    if (!section) {
      throw new WimkitError(
        `Cannot read "${file}": pattern outside a section on line ${index + 1}`,
        "usage",
        { file },
      );
    }
    config[section].push(patternToRegExp(line));
  }
  return config;
}

/** Converts one pattern to a case-insensitive RegExp over "/"-separated paths from the root. */
function patternToRegExp(pattern: string): RegExp {
  let normalized = pattern.replace(/\\/g, "/").replace(/^[A-Za-z]:/, "");
  const wholePath = normalized.includes("/");
  if (wholePath && !normalized.startsWith("/")) normalized = "/" + normalized;
  normalized = normalized.replace(/\/+$/, "");
  const body = normalized.split("").map((c) =>
    c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
  ).join("");
  return new RegExp(wholePath ? `^${body}$` : `(^|/)${body}$`, "i");
}

/** True when any pattern matches `path` ("/"-separated, starting with "/"). */
export function matchesAny(patterns: readonly RegExp[], path: string): boolean {
  return patterns.some((pattern) => pattern.test(path));
}

/** True when `path` is excluded by `config` (and no exception saves it). */
export function isExcluded(config: CaptureConfig, path: string): boolean {
  return matchesAny(config.exclude, path) && !matchesAny(config.exceptions, path);
}
