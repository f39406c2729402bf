/**
 * Request URLs to image paths and back. Every path a client sends goes through
 * {@linkcode decodeDavPath}: percent-decoded once, segment by segment, and normalized inside the
 * image root. `..` and `.` segments, encoded slashes (%2F), backslashes and NUL are refused, not
 * resolved, so no URL names anything outside the image.
 */

/** Why a URL was refused; the handler answers 400. */
export class DavPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DavPathError";
  }
}

/** A decoded request path. */
export interface DavPath {
  /** Image path: "/" or "/a/b", never with a trailing slash. */
  readonly path: string;
  /** True when the URL ended with "/" (a collection was meant). */
  readonly trailingSlash: boolean;
}

/**
 * Decodes the path of a URL (still percent-encoded, as `URL.pathname` gives it) into an image path.
 *
 * @throws {DavPathError} For malformed escapes, `.`/`..` segments, encoded `/`, `\` or NUL.
 *
 * @example
 * ```ts
 * import { decodeDavPath } from "./dav_path.ts";
 * import assert from "node:assert/strict";
 * assert.ok(decodeDavPath("/dir%20one/caf%C3%A9/").path === "/dir one/café");
 * ```
 */
export function decodeDavPath(encodedPath: string): DavPath {
  if (!encodedPath.startsWith("/")) throw new DavPathError("the path must start with /");
  const segments: string[] = [];
  for (const raw of encodedPath.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new DavPathError(`malformed percent-encoding in "${raw}"`);
    }
    if (segment === "." || segment === "..") {
      throw new DavPathError(`"${segment}" segments are not allowed`);
    }
    if (/[/\\\0]/.test(segment)) {
      throw new DavPathError("encoded slashes, backslashes and NUL are not allowed in names");
    }
    segments.push(segment);
  }
  return {
    path: "/" + segments.join("/"),
    trailingSlash: encodedPath.length > 1 && encodedPath.endsWith("/"),
  };
}

/**
 * Encodes an image path as a URL path (each segment percent-encoded; "/" appended for collections).
 *
 * @example
 * ```ts
 * import { encodeDavPath } from "./dav_path.ts";
 * import assert from "node:assert/strict";
 * assert.ok(encodeDavPath("/a b/c#", true) === "/a%20b/c%23/");
 * ```
 */
export function encodeDavPath(path: string, collection: boolean): string {
  const encoded = path.split("/").map((segment) =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
  ).join("/");
  if (!collection) return encoded;
  return encoded.endsWith("/") ? encoded : encoded + "/";
}

/** A URL split without normalization: `..`, `%2e` and `\\` stay as sent, to be refused. */
export interface RawUrl {
  /** "http:" or similar, or undefined for an absolute path ("/a/b"). */
  readonly protocol?: string;
  /** host[:port] in lower case, or undefined for an absolute path. */
  readonly host?: string;
  /** The path, still percent-encoded. */
  readonly path: string;
  /** True when the URL carried a #fragment (never meaningful in a request). */
  readonly fragment: boolean;
}

/**
 * Splits an absolute URL or an absolute path as sent, without the WHATWG normalization that
 * `new URL()` applies (which would silently resolve `..`, `%2e%2e` and backslashes).
 *
 * @throws {DavPathError} For anything else (relative references, no path).
 *
 * @example
 * ```ts
 * import { splitRawUrl } from "./dav_path.ts";
 * import assert from "node:assert/strict";
 * const url = splitRawUrl("http://Host:80/a/../b?q#f");
 * assert.ok(url.host === "host:80" && url.path === "/a/../b" && url.fragment);
 * ```
 */
export function splitRawUrl(raw: string): RawUrl {
  const match = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*:)\/\/([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/.exec(raw);
  const path = match?.[3] ?? "";
  if (!match || !path.startsWith("/")) {
    if (match?.[1] && path === "") {
      return {
        protocol: match[1].toLowerCase(),
        host: match[2]!.toLowerCase(),
        path: "/",
        fragment: match[5] !== undefined,
      };
    }
    throw new DavPathError(`"${raw}" is not an absolute URL or path`);
  }
  return {
    ...(match[1] ? { protocol: match[1].toLowerCase(), host: match[2]!.toLowerCase() } : {}),
    path,
    fragment: match[5] !== undefined,
  };
}

/**
 * Resolves a URL a client names in a header (Destination, tagged If lists) against the request's
 * origin and returns its image path, or undefined when it points at another server.
 *
 * @param origin The request's protocol and host (lower case), e.g. "http:" and "127.0.0.1:8080".
 * @throws {DavPathError} For an unparsable URL or a path {@linkcode decodeDavPath} refuses.
 *
 * @example
 * ```ts
 * import { resolveDavUrl } from "./dav_path.ts";
 * import assert from "node:assert/strict";
 * const origin = { protocol: "http:", host: "127.0.0.1:8080" };
 * assert.ok(resolveDavUrl("/c%20d", origin)?.path === "/c d");
 * assert.ok(resolveDavUrl("http://127.0.0.1:8080/e", origin)?.path === "/e");
 * assert.ok(resolveDavUrl("http://example.com/c", origin) === undefined);
 * ```
 */
export function resolveDavUrl(
  reference: string,
  origin: { readonly protocol: string; readonly host: string },
): DavPath | undefined {
  const url = splitRawUrl(reference.trim());
  if (url.host !== undefined && (url.host !== origin.host || url.protocol !== origin.protocol)) {
    return undefined;
  }
  return decodeDavPath(url.path);
}

/** The parent of image path `path` ("/" for top-level entries and the root). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** Joins a directory path and a name. */
export function childPath(directory: string, name: string): string {
  return directory === "/" ? `/${name}` : `${directory}/${name}`;
}

/** True when `path` is `ancestor` or lies below it. */
export function isWithin(path: string, ancestor: string): boolean {
  return ancestor === "/" || path === ancestor || path.startsWith(ancestor + "/");
}
