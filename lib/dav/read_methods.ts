/**
 * The methods that read: OPTIONS, GET and HEAD (with Range, streamed from the view so only the
 * chunks a request touches are decoded) and PROPFIND (Depth 0, 1 and infinity).
 */

import type { ViewEntry } from "../view/types.ts";
import {
  type DavContext,
  DavHttpError,
  multistatusResponse,
  parseDepth,
  readSmallBody,
  statusText,
} from "./dav_context.ts";
import { encodeDavPath } from "./dav_path.ts";
import {
  escapeXml,
  MULTISTATUS_CLOSE,
  MULTISTATUS_OPEN,
  parsePropfind,
  propElement,
  type PropfindRequest,
  propKey,
  type PropName,
  propstat,
} from "./dav_xml.ts";
import { lockDiscoveryXml } from "./locks.ts";
import { contentTypeFor, etagFor, lastModified, liveNames, livePropertyXml } from "./properties.ts";
import { parseRange } from "./range.ts";

const READ_METHODS = ["OPTIONS", "GET", "HEAD", "PROPFIND"];
const WRITE_METHODS = ["PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK"];

/** The methods a server allows, for OPTIONS and 405 answers. */
export function allowedMethods(context: DavContext): string {
  return [...READ_METHODS, ...(context.writable ? WRITE_METHODS : [])].join(", ");
}

/** OPTIONS: the DAV classes and the allowed methods. */
export function handleOptions(context: DavContext): Response {
  return new Response(null, {
    status: 200,
    headers: {
      "dav": "1, 2",
      "allow": allowedMethods(context),
      "ms-author-via": "DAV",
      "accept-ranges": "bytes",
      "content-length": "0",
    },
  });
}

/** The entry at `path`, or a 404. */
export function requireEntry(context: DavContext, path: string): ViewEntry {
  const entry = context.view.stat(path);
  if (!entry) throw new DavHttpError(404, `no "${path}" in the image`);
  return entry;
}

function etagMatches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}

/** GET and HEAD: a file's bytes (one range at most) or a collection's HTML listing. */
export function handleGet(context: DavContext, request: Request, path: string): Response {
  const entry = requireEntry(context, path);
  const head = request.method === "HEAD";
  if (entry.kind === "directory") return listingResponse(context, entry, head);
  const etag = etagFor(entry);
  const headers: Record<string, string> = {
    "etag": etag,
    "last-modified": lastModified(entry),
    "accept-ranges": "bytes",
    "content-type": entry.kind === "symlink" ? "text/plain; charset=utf-8" : contentTypeFor(path),
  };
  const ifMatch = request.headers.get("if-match");
  if (ifMatch !== null && !etagMatches(ifMatch, etag)) {
    throw new DavHttpError(412, "If-Match does not match the current ETag");
  }
  if (etagMatches(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  if (entry.kind === "symlink") {
    const target = new TextEncoder().encode(entry.linkTarget ?? "");
    return new Response(head ? null : target, {
      headers: { ...headers, "content-length": String(target.length) },
    });
  }
  const ifRange = request.headers.get("if-range");
  const rangeHeader = ifRange === null || ifRange.trim() === etag
    ? request.headers.get("range")
    : null;
  const range = parseRange(rangeHeader, entry.size);
  if (range.type === "unsatisfiable") {
    throw new DavHttpError(416, `the range is outside the file's ${entry.size} bytes`, {
      "content-range": `bytes */${entry.size}`,
    });
  }
  const [start, end, status] = range.type === "partial"
    ? [range.start, range.end, 206]
    : [0, entry.size, 200];
  if (status === 206) headers["content-range"] = `bytes ${start}-${end - 1}/${entry.size}`;
  headers["content-length"] = String(end - start);
  const body = head || end === start ? null : context.view.stream(path, start, end);
  return new Response(body, { status, headers });
}

function listingResponse(context: DavContext, entry: ViewEntry, head: boolean): Response {
  const rows = context.view.list(entry.path).map((child) => {
    const href = encodeDavPath(child.path, child.kind === "directory");
    const size = child.kind === "directory" ? "" : String(child.size);
    return `<tr><td><a href="${escapeXml(href)}">${escapeXml(child.name)}${
      child.kind === "directory" ? "/" : ""
    }</a></td><td>${size}</td><td>${lastModified(child)}</td></tr>`;
  });
  const title = escapeXml(entry.path);
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1><table>${rows.join("")}</table></body></html>\n`;
  return new Response(head ? null : html, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** PROPFIND: properties of a resource and, with Depth 1 or infinity, of its members. */
export async function handlePropfind(
  context: DavContext,
  request: Request,
  path: string,
): Promise<Response> {
  const query = parsePropfind(await readSmallBody(request));
  const root = requireEntry(context, path);
  const depth = parseDepth(request, "infinity");
  const parts = [MULTISTATUS_OPEN];
  const pending: ViewEntry[] = [root];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    parts.push(propfindResponse(context, entry, query));
    if (entry.kind !== "directory") continue;
    if (depth === "0" || (depth === "1" && entry !== root)) continue;
    pending.push(...context.view.list(entry.path).reverse());
  }
  parts.push(MULTISTATUS_CLOSE);
  return multistatusResponse(parts.join("\n"));
}

function propfindResponse(context: DavContext, entry: ViewEntry, query: PropfindRequest): string {
  const discovery = () => lockDiscoveryXml(context.locks.covering(entry.path));
  const dead = context.deadProperties.get(entry.path);
  const found: string[] = [];
  const missing: string[] = [];
  if (query.type === "propname") {
    for (const name of liveNames(entry)) found.push(propElement(name));
    for (const xml of dead.values()) found.push(emptyElementOf(xml));
  } else {
    const names: PropName[] = query.type === "prop"
      ? [...query.names]
      : [...liveNames(entry), ...query.include];
    const seen = new Set<string>();
    for (const name of names) {
      const key = propKey(name);
      if (seen.has(key)) continue;
      seen.add(key);
      const xml = livePropertyXml(entry, name, discovery) ?? dead.get(key);
      if (xml !== undefined) found.push(xml);
      else if (query.type === "prop") missing.push(propElement(name));
    }
    if (query.type === "allprop") {
      for (const [key, xml] of dead) if (!seen.has(key)) found.push(xml);
    }
  }
  const href = escapeXml(encodeDavPath(entry.path, entry.kind === "directory"));
  let xml = `<D:response><D:href>${href}</D:href>`;
  if (found.length > 0 || missing.length === 0) xml += propstat(found.join(""), 200, "OK");
  if (missing.length > 0) xml += propstat(missing.join(""), 404, statusText(404));
  return xml + "</D:response>";
}

/** The empty element for a stored dead property (for propname). */
function emptyElementOf(xml: string): string {
  const match = /^<([^\s>/]+)([^>]*?)\/?>/.exec(xml);
  if (!match) return "";
  const attributes = [...match[2]!.matchAll(/\s(xmlns(?::[^=\s]+)?)="([^"]*)"/g)]
    .map((m) => ` ${m[1]}="${m[2]}"`).join("");
  return `<${match[1]}${attributes}/>`;
}
