/**
 * WebDAV properties of view entries: the live ones computed from a {@linkcode ViewEntry} (RFC 4918
 * §15) and the dead ones clients set with PROPPATCH, kept in memory per path for the server's life
 * and moved, copied and deleted with their resource.
 */

import type { ViewEntry } from "../view/types.ts";
import { childPath, isWithin } from "./dav_path.ts";
import { DAV_NS, escapeXml, propElement, type PropName } from "./dav_xml.ts";

/** The live properties this server computes, in allprop order. */
export const LIVE_PROPERTIES: readonly string[] = [
  "resourcetype",
  "displayname",
  "getcontentlength",
  "getlastmodified",
  "creationdate",
  "getetag",
  "getcontenttype",
  "supportedlock",
  "lockdiscovery",
];

/** True for a DAV: property this server computes (and clients may not set). */
export function isLiveProperty(name: PropName): boolean {
  return name.ns === DAV_NS && LIVE_PROPERTIES.includes(name.local);
}

const CONTENT_TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  ini: "text/plain; charset=utf-8",
  inf: "text/plain; charset=utf-8",
  htm: "text/html; charset=utf-8",
  html: "text/html; charset=utf-8",
  xml: "application/xml",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  zip: "application/zip",
  wim: "application/x-ms-wim",
  exe: "application/vnd.microsoft.portable-executable",
  dll: "application/vnd.microsoft.portable-executable",
};

/**
 * The Content-Type served for a file, by extension.
 *
 * @example
 * ```ts
 * import { contentTypeFor } from "./properties.ts";
 * import assert from "node:assert/strict";
 * assert.ok(contentTypeFor("/a/readme.TXT") === "text/plain; charset=utf-8");
 * ```
 */
export function contentTypeFor(path: string): string {
  const dot = path.lastIndexOf(".");
  const extension = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  return CONTENT_TYPES[extension] ?? "application/octet-stream";
}

/**
 * A strong entity tag: the content's SHA-1 when unchanged, else identity, size and time.
 *
 * @example
 * ```ts
 * import { etagFor } from "./properties.ts";
 * import type { ViewEntry } from "../view/types.ts";
 * import assert from "node:assert/strict";
 * const entry = { id: 7, size: 3, lastWriteTime: 1000, hash: "ab", changed: false } as ViewEntry;
 * assert.ok(etagFor(entry) === '"ab"');
 * ```
 */
export function etagFor(entry: ViewEntry): string {
  if (entry.hash !== undefined && !entry.changed) return `"${entry.hash}"`;
  return `"${entry.id.toString(16)}-${entry.size.toString(16)}-${
    Math.round(entry.lastWriteTime * 10_000).toString(16)
  }"`;
}

function httpDate(ms: number): string {
  return new Date(Number.isFinite(ms) ? ms : 0).toUTCString();
}

function isoDate(ms: number): string {
  const date = new Date(Number.isFinite(ms) ? ms : 0);
  return Number.isNaN(date.getTime()) ? "1970-01-01T00:00:00Z" : date.toISOString();
}

/** The value of the Last-Modified header and getlastmodified for an entry. */
export function lastModified(entry: ViewEntry): string {
  return httpDate(entry.lastWriteTime);
}

const SUPPORTED_LOCK = "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>" +
  "<D:locktype><D:write/></D:locktype></D:lockentry>" +
  "<D:lockentry><D:lockscope><D:shared/></D:lockscope>" +
  "<D:locktype><D:write/></D:locktype></D:lockentry>";

/**
 * The content of live property `local` for `entry`, or undefined when it has none
 * (getcontentlength and getcontenttype of a collection). `lockDiscovery` supplies the lock part.
 */
export function liveProperty(
  entry: ViewEntry,
  local: string,
  lockDiscovery: () => string,
): string | undefined {
  const collection = entry.kind === "directory";
  switch (local) {
    case "resourcetype":
      return collection ? "<D:collection/>" : "";
    case "displayname":
      return escapeXml(entry.name);
    case "getcontentlength":
      return collection ? undefined : String(entry.size);
    case "getlastmodified":
      return httpDate(entry.lastWriteTime);
    case "creationdate":
      return isoDate(entry.creationTime);
    case "getetag":
      return collection ? undefined : escapeXml(etagFor(entry));
    case "getcontenttype":
      return collection ? undefined : escapeXml(contentTypeFor(entry.path));
    case "supportedlock":
      return SUPPORTED_LOCK;
    case "lockdiscovery":
      return lockDiscovery();
    default:
      return undefined;
  }
}

/** The live properties an entry has, as property names. */
export function liveNames(entry: ViewEntry): PropName[] {
  return LIVE_PROPERTIES.filter((local) => liveProperty(entry, local, () => "") !== undefined)
    .map((local) => ({ ns: DAV_NS, local }));
}

/** Renders a live property element, or undefined when the entry lacks it. */
export function livePropertyXml(
  entry: ViewEntry,
  name: PropName,
  lockDiscovery: () => string,
): string | undefined {
  if (!isLiveProperty(name)) return undefined;
  const value = liveProperty(entry, name.local, lockDiscovery);
  return value === undefined ? undefined : propElement(name, value);
}

/**
 * Dead properties by path: each a map from "{ns}local" to the serialized property element.
 *
 * @example
 * ```ts
 * import { DeadProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 * const store = new DeadProperties();
 * store.set("/a", "{urn:x}p", '<p xmlns="urn:x">1</p>');
 * store.move("/a", "/b");
 * assert.ok(store.get("/b").size === 1 && store.get("/a").size === 0);
 * ```
 */
export class DeadProperties {
  readonly #byPath = new Map<string, Map<string, string>>();

  /** The properties of `path` (an empty map when none). */
  get(path: string): ReadonlyMap<string, string> {
    return this.#byPath.get(path) ?? new Map();
  }

  /** Sets property `key` of `path` to the element `xml`. */
  set(path: string, key: string, xml: string): void {
    let props = this.#byPath.get(path);
    if (!props) this.#byPath.set(path, props = new Map());
    props.set(key, xml);
  }

  /** Removes property `key` of `path` (no error when absent). */
  remove(path: string, key: string): void {
    const props = this.#byPath.get(path);
    props?.delete(key);
    if (props?.size === 0) this.#byPath.delete(path);
  }

  /** Replaces the properties of `path` wholesale (used to undo a failed PROPPATCH). */
  restore(path: string, props: ReadonlyMap<string, string>): void {
    if (props.size === 0) this.#byPath.delete(path);
    else this.#byPath.set(path, new Map(props));
  }

  /** Forgets the properties of `path` and everything below it. */
  deleteTree(path: string): void {
    for (const key of [...this.#byPath.keys()]) {
      if (isWithin(key, path)) this.#byPath.delete(key);
    }
  }

  /** Copies the properties of `from` (and below, when `deep`) to `to`. */
  copy(from: string, to: string, deep = true): void {
    for (const [key, props] of [...this.#byPath]) {
      if (key === from || (deep && isWithin(key, from))) {
        this.#byPath.set(rebase(key, from, to), new Map(props));
      }
    }
  }

  /** Moves the properties of `from` and everything below it to `to`. */
  move(from: string, to: string): void {
    const moved = [...this.#byPath].filter(([key]) => isWithin(key, from));
    for (const [key] of moved) this.#byPath.delete(key);
    for (const [key, props] of moved) this.#byPath.set(rebase(key, from, to), props);
  }
}

function rebase(path: string, from: string, to: string): string {
  if (path === from) return to;
  const rest = from === "/" ? path.slice(1) : path.slice(from.length + 1);
  return rest.split("/").reduce(childPath, to);
}
