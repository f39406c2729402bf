/**
 * PROPPATCH (dead properties, all-or-nothing) and LOCK/UNLOCK (class 2): creating, refreshing and
 * ending write locks, including a LOCK on an unmapped URL, which creates an empty file.
 */

import {
  type DavContext,
  DavHttpError,
  multistatusResponse,
  parseDepth,
  readSmallBody,
  statusText,
} from "./dav_context.ts";
import { encodeDavPath, isWithin, parentPath } from "./dav_path.ts";
import {
  escapeXml,
  MULTISTATUS_CLOSE,
  MULTISTATUS_OPEN,
  parseLockInfo,
  parsePropPatch,
  propElement,
  propKey,
  propstat,
} from "./dav_xml.ts";
import { type ActiveLock, activeLockXml, parseTimeout } from "./locks.ts";
import { isLiveProperty } from "./properties.ts";
import { requireEntry } from "./read_methods.ts";
import { checkIfConditions, guardWrite, ifLists, requireWritable } from "./write_guard.ts";
import { submittedTokens } from "./if_header.ts";

/** PROPPATCH: sets and removes dead properties; live ones are protected (403, the rest 424). */
export async function handlePropPatch(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Promise<Response> {
  requireWritable(context);
  const entry = requireEntry(context, path);
  guardWrite(context, request, url, path, [{ path }]);
  const operations = parsePropPatch(await readSmallBody(request));
  const protectedNames = operations.filter((op) => isLiveProperty(op.name));
  let body: string;
  if (protectedNames.length > 0) {
    const forbidden = protectedNames.map((op) => propElement(op.name)).join("");
    const others = operations.filter((op) => !isLiveProperty(op.name))
      .map((op) => propElement(op.name)).join("");
    body = propstat(forbidden, 403, statusText(403)) +
      (others === "" ? "" : propstat(others, 424, statusText(424)));
  } else {
    for (const op of operations) {
      if (op.op === "set") context.deadProperties.set(path, propKey(op.name), op.xml);
      else context.deadProperties.remove(path, propKey(op.name));
    }
    body = propstat(operations.map((op) => propElement(op.name)).join(""), 200, "OK");
  }
  const href = escapeXml(encodeDavPath(path, entry.kind === "directory"));
  return multistatusResponse(
    `${MULTISTATUS_OPEN}<D:response><D:href>${href}</D:href>${body}</D:response>${MULTISTATUS_CLOSE}`,
  );
}

function lockResponse(lock: ActiveLock, status: number, withToken: boolean): Response {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>${
    activeLockXml(lock)
  }</D:lockdiscovery></D:prop>\n`;
  return new Response(body, {
    status,
    headers: {
      "content-type": 'application/xml; charset="utf-8"',
      ...(withToken ? { "lock-token": `<${lock.token}>` } : {}),
    },
  });
}

/** LOCK: a new lock (from a lockinfo body) or a refresh (no body, token in the If header). */
export async function handleLock(
  context: DavContext,
  request: Request,
  url: URL,
  path: string,
): Promise<Response> {
  requireWritable(context);
  const text = await readSmallBody(request);
  const timeoutSeconds = parseTimeout(request.headers.get("timeout"));
  if (text.trim() === "") return refreshLock(context, request, path, timeoutSeconds);
  const info = parseLockInfo(text);
  const depth = parseDepth(request, "infinity");
  if (depth === "1") throw new DavHttpError(400, "LOCK takes Depth 0 or infinity");
  const lists = ifLists(request);
  checkIfConditions(context, lists, url, path);
  let entry = context.view.stat(path);
  const locksInTheWay = entry ? [] : context.locks.covering(parentPath(path));
  if (context.locks.unsatisfied(locksInTheWay, submittedTokens(lists)).length > 0) {
    throw new DavHttpError(423, `the collection holding "${path}" is locked`);
  }
  const lock = context.locks.create(path, {
    scope: info.scope,
    depth: entry?.kind === "directory" ? depth : "0",
    timeoutSeconds,
    collection: entry?.kind === "directory",
    ...(info.ownerXml === undefined ? {} : { ownerXml: info.ownerXml }),
  });
  if (!lock) throw new DavHttpError(423, `"${path}" is already locked`);
  if (!entry) {
    const parent = context.view.stat(parentPath(path));
    if (!parent || parent.kind !== "directory") {
      context.locks.remove(lock.token);
      throw new DavHttpError(409, `the parent collection of "${path}" does not exist`);
    }
    entry = await context.view.writeFile(path, new Uint8Array(0));
    context.noteChange();
    return lockResponse(lock, 201, true);
  }
  return lockResponse(lock, 200, true);
}

function refreshLock(
  context: DavContext,
  request: Request,
  path: string,
  timeoutSeconds: number,
): Response {
  const tokens = submittedTokens(ifLists(request));
  if (tokens.size === 0) {
    throw new DavHttpError(400, "a lock refresh needs the token in an If header");
  }
  const lock = [...tokens].map((token) => context.locks.get(token))
    .find((candidate) =>
      candidate !== undefined &&
      (candidate.root === path ||
        (candidate.depth === "infinity" && isWithin(path, candidate.root)))
    );
  if (!lock) throw new DavHttpError(412, "no submitted token names a lock on this resource");
  context.locks.refresh(lock, timeoutSeconds);
  return lockResponse(lock, 200, false);
}

/** UNLOCK: ends the lock named by the Lock-Token header. */
export function handleUnlock(context: DavContext, request: Request, path: string): Response {
  requireWritable(context);
  const header = request.headers.get("lock-token")?.trim();
  const token = header?.replace(/^<(.*)>$/, "$1");
  if (!token) throw new DavHttpError(400, "UNLOCK needs a Lock-Token header");
  const lock = context.locks.get(token);
  if (!lock || !(lock.root === path || (lock.depth === "infinity" && isWithin(path, lock.root)))) {
    throw new DavHttpError(409, "the Lock-Token does not name a lock on this resource");
  }
  context.locks.remove(token);
  return new Response(null, { status: 204 });
}
