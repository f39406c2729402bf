/**
 * What every WebDAV method handler shares: the view, the locks, the dead properties, a change
 * counter, and the mapping of failures to HTTP statuses.
 */

import { WimkitError } from "../errors.ts";
import { type ImageView, ViewError, type ViewErrorReason } from "../view/types.ts";
import { DavPathError } from "./dav_path.ts";
import { DavXmlError } from "./dav_xml.ts";
import { Gate } from "./gate.ts";
import { IfHeaderError } from "./if_header.ts";
import { LockManager } from "./locks.ts";
import { DeadProperties } from "./properties.ts";

/** A request that ends with a given status and a one-line explanation. */
export class DavHttpError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Extra response headers (Allow, Content-Range...). */
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "DavHttpError";
    this.status = status;
    this.headers = headers;
  }
}

/** The state of one server, shared by its method handlers. */
export class DavContext {
  /** The image being served. */
  readonly view: ImageView;
  /** True when write methods are allowed (--rw and a writable view). */
  readonly writable: boolean;
  readonly locks: LockManager = new LockManager();
  readonly deadProperties: DeadProperties = new DeadProperties();
  /** Requests share it, commit and discard hold it alone. */
  readonly gate: Gate = new Gate();
  #changes = 0;

  constructor(view: ImageView, writable: boolean) {
    this.view = view;
    this.writable = writable && view.writable;
  }

  /** Number of changes made since the last commit or discard. */
  get changes(): number {
    return this.view.dirty ? Math.max(this.#changes, 1) : 0;
  }

  /** Counts one successful change. */
  noteChange(): void {
    this.#changes++;
  }

  /** Forgets the count after a commit or discard. */
  resetChanges(): void {
    this.#changes = 0;
  }
}

const REASON_STATUS: Record<ViewErrorReason, number> = {
  "not-found": 404,
  "exists": 405,
  "not-directory": 409,
  "is-directory": 405,
  "not-empty": 409,
  "read-only": 403,
  "invalid": 400,
};

/**
 * The status for an error a handler threw: client mistakes get 4xx, anything else 500.
 *
 * @example
 * ```ts
 * import { statusFor } from "./dav_context.ts";
 * import { ViewError } from "../view/types.ts";
 * import assert from "node:assert/strict";
 * assert.ok(statusFor(new ViewError("no /a", "not-found", "/a")) === 404);
 * ```
 */
export function statusFor(error: unknown): number {
  if (error instanceof DavHttpError) return error.status;
  if (error instanceof ViewError) return REASON_STATUS[error.reason];
  if (
    error instanceof DavPathError || error instanceof DavXmlError || error instanceof IfHeaderError
  ) return 400;
  if (error instanceof WimkitError && error.code === "not-found") return 404;
  return 500;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  207: "Multi-Status",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  415: "Unsupported Media Type",
  423: "Locked",
  424: "Failed Dependency",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/** The reason phrase of `status`. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "Unknown";
}

/** A plain-text response with a one-line body. */
export function textResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(status === 204 || status === 304 ? null : `${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** A 207 Multi-Status response with an XML body. */
export function multistatusResponse(body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status: 207,
    headers: { "content-type": 'application/xml; charset="utf-8"', ...headers },
  });
}

/** Reads a request body as text, bounded (XML bodies are small). */
export async function readSmallBody(request: Request, limitBytes = 1 << 20): Promise<string> {
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.length;
    if (total > limitBytes) throw new DavHttpError(413, "request body too large");
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** Reads the Depth header: "0", "1" or "infinity"; `fallback` when absent. */
export function parseDepth(
  request: Request,
  fallback: "0" | "1" | "infinity",
): "0" | "1" | "infinity" {
  const value = request.headers.get("depth")?.trim().toLowerCase();
  if (value === undefined) return fallback;
  if (value === "0" || value === "1" || value === "infinity") return value;
  throw new DavHttpError(400, `Depth "${value}" is not 0, 1 or infinity`);
}
