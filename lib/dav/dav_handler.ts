/**
 * The WebDAV service over an {@linkcode ImageView}: authentication, URL decoding, method routing,
 * error answers, and the commit endpoints (`POST /.wimkit/commit`, `POST /.wimkit/discard`,
 * `GET /.wimkit/status`, answering JSON). The endpoints are not part of the image, so they appear
 * in no listing.
 */

import type { CommitResult, ImageView } from "../view/types.ts";
import { basicAuthChecker, type Credentials } from "./basic_auth.ts";
import { DavContext, DavHttpError, statusFor, statusText, textResponse } from "./dav_context.ts";
import { decodeDavPath, splitRawUrl } from "./dav_path.ts";
import { handleLock, handlePropPatch, handleUnlock } from "./lock_methods.ts";
import { allowedMethods, handleGet, handleOptions, handlePropfind } from "./read_methods.ts";
import { handleCopyMove, handleDelete, handleMkcol, handlePut } from "./write_methods.ts";

/** Options of {@linkcode DavService}. */
export interface DavServiceOptions {
  /** Allow write methods (the view must be writable too). */
  readonly writable?: boolean;
  /** Require HTTP Basic authentication with these credentials. */
  readonly credentials?: Credentials;
  /** Called with errors that became a 500 (the face may print them). */
  readonly onError?: (error: unknown, request: Request) => void;
}

/** What a commit through the service reports. */
export interface DavCommitReport extends CommitResult {
  /** Changes (write requests) the commit included. */
  readonly changes: number;
}

/** The prefix of the service's own endpoints. */
export const CONTROL_PREFIX = "/.wimkit/";

/**
 * Answers WebDAV requests for one image view; pass {@linkcode DavService.handle} to `Deno.serve`.
 *
 * @example Serve a view (here a stand-in with an empty root)
 * ```ts ignore
 * import { DavService } from "./dav_handler.ts";
 * const service = new DavService(view, { writable: true });
 * Deno.serve({ hostname: "127.0.0.1", port: 0 }, (request) => service.handle(request));
 * ```
 */
export class DavService {
  readonly #context: DavContext;
  readonly #checkAuth: ((header: string | null) => boolean) | undefined;
  readonly #onError: ((error: unknown, request: Request) => void) | undefined;

  constructor(view: ImageView, options: DavServiceOptions = {}) {
    this.#context = new DavContext(view, options.writable ?? false);
    this.#checkAuth = options.credentials ? basicAuthChecker(options.credentials) : undefined;
    this.#onError = options.onError;
  }

  /** True when write methods are allowed. */
  get writable(): boolean {
    return this.#context.writable;
  }

  /** Number of uncommitted changes. */
  get changes(): number {
    return this.#context.changes;
  }

  /** Writes the changes into the WIM (as an update, or a new image named `newImage`). */
  async commit(options: { newImage?: string } = {}): Promise<DavCommitReport> {
    return await this.#context.gate.exclusive(async () => {
      const changes = this.#context.changes;
      const result = await this.#context.view.commit(options);
      this.#context.resetChanges();
      return { ...result, changes };
    });
  }

  /** Drops the uncommitted changes. */
  async discard(): Promise<number> {
    return await this.#context.gate.exclusive(async () => {
      const changes = this.#context.changes;
      await this.#context.view.discard();
      this.#context.resetChanges();
      return changes;
    });
  }

  /** Answers one request; never throws. */
  async handle(request: Request): Promise<Response> {
    try {
      if (this.#checkAuth && !this.#checkAuth(request.headers.get("authorization"))) {
        return textResponse(401, "authentication required", {
          "www-authenticate": 'Basic realm="wimkit", charset="UTF-8"',
        });
      }
      // The path is taken as sent: new URL() would quietly resolve "..", "%2e" and "\\".
      const raw = splitRawUrl(request.url);
      const url = new URL(request.url);
      const host = request.headers.get("host");
      if (host !== null && host.toLowerCase() !== url.host) {
        throw new DavHttpError(400, "the request URL names another host");
      }
      if (raw.fragment) throw new DavHttpError(400, "a request URL cannot carry a #fragment");
      if (raw.path.startsWith(CONTROL_PREFIX)) return await this.#control(request, url, raw.path);
      const { path } = decodeDavPath(raw.path);
      return await this.#context.gate.shared(() => this.#route(request, url, path));
    } catch (error) {
      return this.#errorResponse(error, request);
    }
  }

  #errorResponse(error: unknown, request: Request): Response {
    const status = statusFor(error);
    if (status === 500) this.#onError?.(error, request);
    const message = status === 500
      ? `internal error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`
      : error instanceof Error
      ? error.message
      : statusText(status);
    const headers = error instanceof DavHttpError ? { ...error.headers } : {};
    if (status === 405) headers["allow"] = allowedMethods(this.#context);
    request.body?.cancel().catch(() => {});
    return textResponse(status, message, headers);
  }

  async #route(request: Request, url: URL, path: string): Promise<Response> {
    const context = this.#context;
    switch (request.method) {
      case "OPTIONS":
        return handleOptions(context);
      case "GET":
      case "HEAD":
        return handleGet(context, request, path);
      case "PROPFIND":
        return await handlePropfind(context, request, path);
      case "PUT":
        return await handlePut(context, request, url, path);
      case "DELETE":
        return handleDelete(context, request, url, path);
      case "MKCOL":
        return await handleMkcol(context, request, url, path);
      case "COPY":
      case "MOVE":
        return handleCopyMove(context, request, url, path);
      case "PROPPATCH":
        return await handlePropPatch(context, request, url, path);
      case "LOCK":
        return await handleLock(context, request, url, path);
      case "UNLOCK":
        return handleUnlock(context, request, path);
      default:
        throw new DavHttpError(405, `${request.method} is not supported`);
    }
  }

  async #control(request: Request, url: URL, rawPath: string): Promise<Response> {
    const action = rawPath.slice(CONTROL_PREFIX.length);
    const json = (value: unknown, status = 200) =>
      new Response(JSON.stringify(value) + "\n", {
        status,
        headers: { "content-type": "application/json" },
      });
    if (action === "status" && (request.method === "GET" || request.method === "HEAD")) {
      return json({
        writable: this.writable,
        dirty: this.#context.view.dirty,
        changes: this.changes,
      });
    }
    if ((action === "commit" || action === "discard") && request.method === "POST") {
      if (!this.writable) {
        throw new DavHttpError(403, "read-only: this image is served without --rw");
      }
      if (action === "discard") return json({ discarded: await this.discard() });
      const newImage = url.searchParams.get("new-image") ?? await newImageFromBody(request);
      return json(await this.commit(newImage ? { newImage } : {}));
    }
    throw new DavHttpError(404, `no endpoint ${rawPath} (POST commit or discard, GET status)`);
  }
}

async function newImageFromBody(request: Request): Promise<string | undefined> {
  const text = (await request.text()).trim();
  if (text === "") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DavHttpError(400, 'the commit body must be JSON like {"newImage": "name"}');
  }
  const name = (body as { newImage?: unknown } | null)?.newImage;
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name.trim() === "") {
    throw new DavHttpError(400, "newImage must be a non-empty string");
  }
  return name;
}
