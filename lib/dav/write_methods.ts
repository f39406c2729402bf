/**
 * The methods that change the image's staging area (with --rw): PUT, DELETE, MKCOL, COPY and
 * MOVE, with the status codes RFC 4918 §9 gives for each case.
 */

import type { ViewEntry } from "../view/types.ts";
import { type DavContext, DavHttpError, parseDepth, readSmallBody } from "./dav_context.ts";
import { isWithin, parentPath, resolveDavUrl } from "./dav_path.ts";
import { etagFor } from "./properties.ts";
import { requireEntry } from "./read_methods.ts";
import { guardWrite, requireWritable } from "./write_guard.ts";

/** Refuses unless the parent of `path` is an existing collection (409 otherwise). */
function requireParentCollection(context: DavContext, path: string): void {
  const parent = context.view.stat(parentPath(path));
  if (!parent || parent.kind !== "directory") {
    throw new DavHttpError(409, `the parent collection of "${path}" does not exist`);
  }
}

/** PUT: creates or replaces a file with the request body, streamed into the view. */
export async function handlePut(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Promise<Response> {
  requireWritable(context);
  if (path === "/") throw new DavHttpError(405, "the root is a collection");
  guardWrite(context, request, url, path, [{ path, membership: true }]);
  requireParentCollection(context, path);
  const existing = context.view.stat(path);
  if (existing?.kind === "directory") {
    throw new DavHttpError(405, `"${path}" is a collection`);
  }
  const ifNoneMatch = request.headers.get("if-none-match");
  if (existing && ifNoneMatch?.trim() === "*") {
    throw new DavHttpError(412, `"${path}" exists (If-None-Match: *)`);
  }
  const ifMatch = request.headers.get("if-match");
  if (ifMatch !== null && (!existing || !matchesEtag(ifMatch, existing))) {
    throw new DavHttpError(412, "If-Match does not match the current ETag");
  }
  let entry: ViewEntry;
  try {
    entry = await context.view.writeFile(path, request.body ?? new Uint8Array(0));
  } catch (error) {
    if (!existing && context.view.stat(path)) {
      try {
        context.view.remove(path);
      } catch {
        // the view already cleaned up
      }
    }
    throw error;
  }
  context.noteChange();
  return new Response(null, {
    status: existing ? 204 : 201,
    headers: { "etag": etagFor(entry) },
  });
}

function matchesEtag(header: string, entry: ViewEntry): boolean {
  const etag = etagFor(entry);
  return header.split(",").some((tag) => tag.trim() === "*" || tag.trim() === etag);
}

/** DELETE: removes a file or a collection with everything below it. */
export function handleDelete(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Response {
  requireWritable(context);
  if (path === "/") throw new DavHttpError(403, "the root cannot be deleted");
  requireEntry(context, path);
  guardWrite(context, request, url, path, [{ path, deep: true, membership: true }]);
  context.view.remove(path, { recursive: true });
  context.deadProperties.deleteTree(path);
  context.locks.removeTree(path);
  context.noteChange();
  return new Response(null, { status: 204 });
}

/** MKCOL: creates a collection; 415 with a body, 405 when taken, 409 without a parent. */
export async function handleMkcol(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Promise<Response> {
  requireWritable(context);
  if ((await readSmallBody(request)).length > 0) {
    throw new DavHttpError(415, "MKCOL with a request body is not supported");
  }
  if (context.view.stat(path)) throw new DavHttpError(405, `"${path}" already exists`);
  requireParentCollection(context, path);
  guardWrite(context, request, url, path, [{ path, membership: true }]);
  context.view.mkdir(path);
  context.noteChange();
  return new Response(null, { status: 201 });
}

/** The destination of a COPY or MOVE, from the Destination header. */
function destinationOf(request: Request, url: URL): string {
  const header = request.headers.get("destination");
  if (header === null) throw new DavHttpError(400, "COPY and MOVE need a Destination header");
  const destination = resolveDavUrl(header, url);
  if (!destination) throw new DavHttpError(502, "the Destination is on another server");
  return destination.path;
}

/** COPY and MOVE, including Overwrite and Depth. */
export function handleCopyMove(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Response {
  requireWritable(context);
  const move = request.method === "MOVE";
  const source = requireEntry(context, path);
  const destination = destinationOf(request, url);
  if (destination === path) throw new DavHttpError(403, "source and destination are the same");
  if (path === "/" && move) throw new DavHttpError(403, "the root cannot be moved");
  if (source.kind === "directory" && isWithin(destination, path)) {
    throw new DavHttpError(409, "cannot copy or move a collection into itself");
  }
  const depth = parseDepth(request, "infinity");
  if (depth === "1" || (move && depth !== "infinity")) {
    throw new DavHttpError(400, `Depth ${depth} is not allowed for ${request.method}`);
  }
  const overwriteHeader = request.headers.get("overwrite")?.trim().toUpperCase() ?? "T";
  if (overwriteHeader !== "T" && overwriteHeader !== "F") {
    throw new DavHttpError(400, "Overwrite must be T or F");
  }
  requireParentCollection(context, destination);
  const existed = context.view.stat(destination) !== undefined;
  if (existed && overwriteHeader === "F") {
    throw new DavHttpError(412, `"${destination}" exists and Overwrite is F`);
  }
  const guarded = [{ path: destination, deep: true, membership: true }];
  if (move) guarded.push({ path, deep: true, membership: true });
  guardWrite(context, request, url, path, guarded);
  if (existed) {
    context.view.remove(destination, { recursive: true });
    context.deadProperties.deleteTree(destination);
    context.locks.removeTree(destination);
  }
  if (move) {
    context.view.move(path, destination);
    context.deadProperties.move(path, destination);
    context.locks.removeTree(path);
  } else if (source.kind === "directory" && depth === "0") {
    context.view.mkdir(destination);
    context.deadProperties.copy(path, destination, false);
  } else {
    context.view.copy(path, destination, { recursive: true });
    context.deadProperties.copy(path, destination);
  }
  context.noteChange();
  return new Response(null, { status: existed ? 204 : 201 });
}
