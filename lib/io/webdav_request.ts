/**
 * The request layer of the WebDAV client (lib/io/webdav.ts): the target URL with its credentials
 * moved into an `Authorization` header, one request over fetch, status checks, and the retry
 * loop with exponential backoff and a stall timeout that decides which failures are transient.
 */

import { describeTlsFailure } from "./tls_error.ts";
import { WimkitError } from "../errors.ts";

/** Options of every request. */
export interface WebDavOptions {
  /** Retries after a transient failure (default 3, so at most 4 attempts). */
  retries?: number;
  /** Delay before the first retry in milliseconds, doubled for each further one (default 500). */
  backoffMs?: number;
  /** Abandon an attempt that makes no progress for this long (default 60000 ms). */
  timeoutMs?: number;
  /** Cancels the request; an abort is never retried. */
  signal?: AbortSignal;
  /** An HTTP client, e.g. with a private CA: `Deno.createHttpClient({ caCerts })`. */
  client?: Deno.HttpClient;
}

/** A WebDAV request that failed; `status` is the HTTP status when the server answered. */
export class WebDavError extends WimkitError {
  /** The HTTP status, or undefined for a network failure or timeout. */
  readonly status: number | undefined;
  /** Whether the failure was transient (worth retrying). */
  readonly transient: boolean;

  constructor(
    message: string,
    context: { file: string; status?: number; transient: boolean; cause?: unknown },
  ) {
    super(message, context.status === 404 ? "not-found" : "io", {
      file: context.file,
      ...(context.cause === undefined ? {} : { cause: context.cause }),
    });
    this.status = context.status;
    this.transient = context.transient;
  }
}

const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 60_000;

/** A parsed URL: the request URL without credentials, the header, and the name for messages. */
export interface Target {
  readonly url: string;
  readonly shown: string;
  readonly authorization: string | undefined;
}

/**
 * Parses a WebDAV URL, moving `user:password@` into a Basic `Authorization` header.
 *
 * @throws {TypeError} If `url` is not an http: or https: URL.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./webdav_request.ts";
 * import assert from "node:assert/strict";
 * const target = parseTarget("https://u:p@share.example/a.wim");
 * assert.ok(target.url === "https://share.example/a.wim" && target.authorization !== undefined);
 * ```
 */
export function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`"${parsed.protocol}" URLs are not WebDAV; use http: or https:`);
  }
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const authorization = user || password ? `Basic ${base64(`${user}:${password}`)}` : undefined;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.href, shown: parsed.href, authorization };
}

/** Base64 of the UTF-8 bytes of `text`. */
function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** Sends one request to `target` (a streamed body goes half-duplex). */
export async function send(
  target: Target,
  method: string,
  signal: AbortSignal,
  options: WebDavOptions,
  headers: Record<string, string> = {},
  body?: ReadableStream<Uint8Array>,
): Promise<Response> {
  const init = {
    method,
    signal,
    headers: {
      ...headers,
      ...(target.authorization ? { authorization: target.authorization } : {}),
    },
    ...(body ? { body, duplex: "half" } : {}),
    ...(options.client ? { client: options.client } : {}),
  };
  return await fetch(target.url, init as RequestInit);
}

/** Throws unless the status is one of `expected`; the body is consumed unless `keepBody`. */
export async function expectStatus(
  response: Response,
  expected: number[],
  target: Target,
  keepBody = false,
) {
  if (expected.includes(response.status)) {
    if (!keepBody) await response.body?.cancel();
    return;
  }
  await response.body?.cancel();
  const status = response.status;
  const transient = (status >= 500 && status !== 501 && status !== 505) || status === 408 ||
    status === 429;
  const hint = status === 401 || status === 403
    ? " (check the user and password in the URL)"
    : status === 409
    ? " (the parent folder does not exist)"
    : "";
  throw new WebDavError(
    `the server answered ${status} ${response.statusText}${hint}`.trimEnd(),
    { file: target.shown, status, transient },
  );
}

/** The ETag of a response, if it has one. */
export function etagOf(response: Response): string | undefined {
  return response.headers.get("etag") ?? undefined;
}

/** An error that ends the transfer as it is: from the caller's callback or the local file. */
export class Fatal {
  constructor(readonly error: unknown) {}
}

/** One try of a transfer; `touch` restarts the stall timer whenever progress is made. */
export interface Attempt<T> {
  attempt(attempt: number, signal: AbortSignal, touch: () => void): Promise<T>;
}

/** Runs `work` until it succeeds, fails for good, or `options.retries` retries are used. */
export async function withRetries<T>(
  what: string,
  target: Target,
  options: WebDavOptions,
  work: Attempt<T>,
): Promise<T> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`retries must be a whole number >= 0, got ${retries}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let attempt = 1;; attempt++) {
    options.signal?.throwIfAborted();
    const stall = new AbortController();
    let timer = setTimeout(() => stall.abort(), timeoutMs);
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), timeoutMs);
    };
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
    try {
      return await work.attempt(attempt, signal, touch);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error instanceof Fatal) throw error.error;
      const failure = classify(error, stall.signal.aborted, timeoutMs);
      if (!failure.transient || attempt > retries) {
        const tries = attempt > 1 ? ` after ${attempt} attempts` : "";
        throw new WebDavError(`${what}${tries}: ${failure.message}`, {
          file: target.shown,
          ...(failure.status === undefined ? {} : { status: failure.status }),
          transient: failure.transient,
          cause: error,
        });
      }
    } finally {
      clearTimeout(timer);
    }
    const base = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    await delay(Math.min(base * 2 ** (attempt - 1), MAX_BACKOFF_MS), options.signal);
  }
}

function classify(error: unknown, stalled: boolean, timeoutMs: number) {
  if (stalled) {
    return {
      message: `no progress for ${timeoutMs} ms`,
      transient: true,
      status: undefined,
    };
  }
  if (error instanceof WebDavError) {
    return { message: error.message, transient: error.transient, status: error.status };
  }
  // A certificate that is not trusted will not be trusted on the next attempt either.
  const tls = describeTlsFailure(error);
  if (tls !== undefined) return { message: tls, transient: false, status: undefined };
  if (error instanceof TypeError) {
    // fetch reports every other network failure (reset, refused, DNS) as a TypeError.
    return { message: describe(error), transient: true, status: undefined };
  }
  return { message: describe(error), transient: false, status: undefined };
}

/** An error of the local file of a transfer. */
export function localError(what: string, path: string, error: unknown): WimkitError {
  return new WimkitError(`${what}: ${describe(error)}`, "io", { file: path, cause: error });
}

/** The first line of an error's message. */
export function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
