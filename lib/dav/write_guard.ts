/**
 * The preconditions of a write: the read-only refusal, locks (423 unless the If header submits a
 * token of every lock in the way) and the If header's conditions (412 when they do not hold).
 */

import { type DavContext, DavHttpError } from "./dav_context.ts";
import { parentPath, resolveDavUrl } from "./dav_path.ts";
import { evaluateIf, type IfList, parseIfHeader, submittedTokens } from "./if_header.ts";
import { etagFor } from "./properties.ts";

/** A path a write touches and how. */
export interface GuardedPath {
  readonly path: string;
  /** The write reaches everything below `path` (DELETE or MOVE of a collection). */
  readonly deep?: boolean;
  /** The write adds or removes `path` as a member of its parent collection. */
  readonly membership?: boolean;
}

/** Refuses a write on a read-only server. */
export function requireWritable(context: DavContext): void {
  if (!context.writable) {
    throw new DavHttpError(403, "read-only: this image is served without --rw");
  }
}

/** The parsed If header of `request` (empty when absent). */
export function ifLists(request: Request): IfList[] {
  const header = request.headers.get("if");
  return header === null ? [] : parseIfHeader(header);
}

/**
 * Checks the If header's conditions against the current state of the resources they name.
 *
 * @throws {DavHttpError} 412 when no list holds.
 */
export function checkIfConditions(
  context: DavContext,
  lists: readonly IfList[],
  url: URL,
  requestPath: string,
): void {
  if (lists.length === 0) return;
  const holds = evaluateIf(lists, (resource) => {
    const path = resource === undefined ? requestPath : resolveDavUrl(resource, url)?.path;
    if (path === undefined) return { etag: undefined, lockTokens: new Set<string>() };
    const entry = context.view.stat(path);
    return {
      etag: entry && entry.kind !== "directory" ? etagFor(entry) : undefined,
      lockTokens: new Set(context.locks.covering(path).map((lock) => lock.token)),
    };
  });
  if (!holds) throw new DavHttpError(412, "the If header's conditions do not hold");
}

/**
 * Checks that the request may write `paths`: the server is writable, the If header holds (412
 * first, as RFC 4918 §10.4 evaluates it before locks), and every lock in the way is satisfied by
 * a submitted token (423). Returns the submitted tokens.
 *
 * @throws {DavHttpError} 403 when read-only, 423 when locked, 412 when the If header fails.
 */
export function guardWrite(
  context: DavContext,
  request: Request,
  url: URL,
  requestPath: string,
  paths: readonly GuardedPath[],
): Set<string> {
  requireWritable(context);
  const lists = ifLists(request);
  checkIfConditions(context, lists, url, requestPath);
  const submitted = submittedTokens(lists);
  for (const target of paths) {
    const locks = target.deep
      ? context.locks.coveringTree(target.path)
      : context.locks.covering(target.path);
    if (target.membership && target.path !== "/") {
      locks.push(...context.locks.covering(parentPath(target.path)));
    }
    if (context.locks.unsatisfied(locks, submitted).length > 0) {
      throw new DavHttpError(423, `"${target.path}" is locked`);
    }
  }
  return submitted;
}
