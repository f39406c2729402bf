/**
 * One HTTP Range request with the file's version pinned, retried on transient failures.
 *
 * Pinning: every request after the first carries `If-Range` with the strong ETag (or else the
 * Last-Modified date) learned from the first response. A server answers such a request with the
 * whole file (200) when the file changed, and that, a 412, a 416 or a `Content-Range` total other
 * than the first one all mean the file changed on the server: reading stops with a
 * {@linkcode SourceChangedError} instead of mixing bytes of two versions.
 *
 * Transient failures (network errors, timeouts, 408, 429, 5xx) are retried with exponential
 * backoff; other 4xx answers are not.
 */

import { SourceChangedError, WimkitError } from "../errors.ts";
import { describeTlsFailure } from "./tls_error.ts";

/** What the first response said about the file; later responses must agree. */
export interface HttpVersion {
  /** Total size in bytes. */
  readonly size: number;
  /** Strong ETag, if the server sent one. */
  readonly etag: string | undefined;
  /** Last-Modified, if the server sent it. */
  readonly lastModified: string | undefined;
}

/** Retry and timeout settings. */
export interface HttpPolicy {
  /** Attempts after the first for one request (default 6). */
  readonly retries: number;
  /** First backoff delay; doubled on each retry, up to 5 s (default 200 ms). */
  readonly retryDelayMs: number;
  /** Longest wait for response headers or for the next piece of a body (default 30 s). */
  readonly timeoutMs: number;
}

/** The default {@linkcode HttpPolicy}. */
export const DEFAULT_HTTP_POLICY: HttpPolicy = { retries: 6, retryDelayMs: 200, timeoutMs: 30_000 };

/** A failure worth retrying (network error, timeout, 408, 429, 5xx, a body cut short). */
export class TransientHttpError extends Error {}

/** A response body being read, with the controller that aborts its connection. */
export interface RangeBody {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly abort: () => void;
}

/**
 * Requests bytes `start..end` (end exclusive) of `url`, pinned to `version`, retrying transient
 * failures; the returned body delivers exactly those bytes.
 *
 * @throws {SourceChangedError} If the server shows that the file changed.
 * @throws {WimkitError} On a permanent failure (404, 403, ...) or when retries run out.
 */
export async function fetchRange(
  url: string,
  start: number,
  end: number,
  version: HttpVersion,
  policy: HttpPolicy,
): Promise<RangeBody> {
  return await withRetries(url, policy, async () => {
    const headers: Record<string, string> = { range: `bytes=${start}-${end - 1}` };
    const validator = version.etag ?? version.lastModified;
    if (validator !== undefined) headers["if-range"] = validator;
    const { response, abort } = await timedFetch(url, headers, policy.timeoutMs);
    try {
      checkRangeResponse(url, response, start, end, version);
    } catch (error) {
      abort();
      throw error;
    }
    return { reader: response.body!.getReader(), abort };
  });
}

/**
 * Sends a GET with `headers`, giving up when the headers do not arrive within `timeoutMs`.
 *
 * @throws {TransientHttpError} On a network error or timeout.
 * @throws {WimkitError} When the network is not allowed (Deno permissions), or the server's TLS
 * certificate is rejected (not retried: the message says how to trust a private CA).
 */
export async function timedFetch(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ response: Response; abort: () => void }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TransientHttpError("timed out")), timeoutMs);
  const abort = () => controller.abort(new TransientHttpError("aborted"));
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    return { response, abort };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new WimkitError(
        `Cannot read "${url}": network access is not allowed (run with --allow-net)`,
        "io",
        { file: url, cause: error },
      );
    }
    const tls = describeTlsFailure(error);
    if (tls !== undefined) {
      throw new WimkitError(`Cannot read "${url}": ${tls}`, "io", { file: url, cause: error });
    }
    const reason = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
      ? error.message
      : String(error);
    throw new TransientHttpError(reason, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the next piece of `body`, giving up after `timeoutMs` without data.
 *
 * @throws {TransientHttpError} On a timeout or a dropped connection.
 */
export async function readPiece(
  body: RangeBody,
  timeoutMs: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      body.abort();
      reject(new TransientHttpError(`no data for ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([body.reader.read(), timeout]);
  } catch (error) {
    if (error instanceof TransientHttpError) throw error;
    throw new TransientHttpError(
      `the connection dropped: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `attempt` until it succeeds, retrying {@linkcode TransientHttpError}s with exponential
 * backoff up to `policy.retries` times.
 *
 * @throws {WimkitError} When the retries run out (the last failure as cause).
 */
export async function withRetries<T>(
  url: string,
  policy: HttpPolicy,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let tries = 0;; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TransientHttpError)) throw error;
      if (tries >= policy.retries) throw gaveUp(url, tries + 1, error);
      await backoff(policy, tries);
    }
  }
}

/** The error thrown when a transient failure persists. */
export function gaveUp(url: string, attempts: number, error: TransientHttpError): WimkitError {
  return new WimkitError(
    `Cannot read "${url}": ${error.message} (gave up after ${attempts} attempts)`,
    "io",
    { file: url, cause: error },
  );
}

/** Waits before retry number `tries` (0-based): the base delay doubled each time, with jitter. */
export function backoff(policy: HttpPolicy, tries: number): Promise<void> {
  const ms = Math.min(5000, policy.retryDelayMs * 2 ** tries) * (0.75 + Math.random() * 0.5);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Parses `Content-Range: bytes FIRST-LAST/TOTAL` (or `bytes * /TOTAL`).
 *
 * @example
 * ```ts
 * import { parseContentRange } from "./http_fetch.ts";
 * import assert from "node:assert/strict";
 * const range = parseContentRange("bytes 0-207/4096");
 * assert.ok(range?.first === 0 && range.last === 207 && range.total === 4096);
 * ```
 */
export function parseContentRange(
  header: string | null,
): { first: number; last: number; total: number } | undefined {
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? "");
  if (!match || match[3] === "*") return undefined;
  return {
    first: match[1] === undefined ? -1 : Number(match[1]),
    last: match[2] === undefined ? -1 : Number(match[2]),
    total: Number(match[3]),
  };
}

/** The message of every "file changed" failure. */
export function changedError(url: string, detail: string): SourceChangedError {
  return new SourceChangedError(
    `Cannot read "${url}": the file changed on the server during the operation (${detail})`,
    { file: url },
  );
}

function checkRangeResponse(
  url: string,
  response: Response,
  start: number,
  end: number,
  version: HttpVersion,
): void {
  const status = response.status;
  if (status === 206) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range && range.total !== version.size) {
      throw changedError(url, `its size was ${version.size} bytes and is now ${range.total}`);
    }
    const etag = response.headers.get("etag");
    if (version.etag !== undefined && etag !== null && etag !== version.etag) {
      throw changedError(url, `its ETag was ${version.etag} and is now ${etag}`);
    }
    if (!range || range.first !== start || range.last !== end - 1 || !response.body) {
      throw new WimkitError(
        `Cannot read "${url}": asked for bytes ${start}-${end - 1}, the server sent "${
          response.headers.get("content-range") ?? "no Content-Range"
        }"`,
        "io",
        { file: url },
      );
    }
    return;
  }
  if (status === 200 || status === 412 || status === 416) {
    throw changedError(
      url,
      status === 200 ? "the server sent a whole new file for a range request" : `HTTP ${status}`,
    );
  }
  if (status === 408 || status === 429 || status >= 500) {
    throw new TransientHttpError(`the server answered ${status} ${response.statusText}`);
  }
  throw httpStatusError(url, response);
}

/** A permanent HTTP failure as a {@linkcode WimkitError} ("not-found" for 404 and 410). */
export function httpStatusError(url: string, response: Response): WimkitError {
  const status = response.status;
  response.body?.cancel().catch(() => {});
  return new WimkitError(
    `Cannot read "${url}": the server answered ${status} ${response.statusText}`.trimEnd(),
    status === 404 || status === 410 ? "not-found" : "io",
    { file: url },
  );
}
