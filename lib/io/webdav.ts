/**
 * A small WebDAV client for publishing files: streaming PUT, GET to a file, HEAD, MOVE, DELETE
 * and MKCOL over plain fetch (RFC 4918 §9). Requests, status checks and retries are lib/io/webdav_request.ts.
 *
 * Transient failures (a connection reset or refused, a 5xx answer other than 501 and 505, 408,
 * 429, or no progress for `timeoutMs`) are retried with exponential backoff; an upload or
 * download that fails restarts from its first byte, so the server never sees a resumed body.
 * Basic authentication comes from the URL's `user:password@`, which is moved into an
 * `Authorization` header (fetch refuses URLs with credentials) and never appears in messages.
 *
 * Deno's fetch sends a streamed body with chunked transfer encoding and drops a
 * `Content-Length` set by hand (checked with Deno 2.9), so the server must accept chunked PUTs:
 * rclone, nginx's DAV module and Apache mod_dav all do.
 */

import { WimkitError } from "../errors.ts";
import {
  describe,
  etagOf,
  expectStatus,
  Fatal,
  localError,
  parseTarget,
  send,
  WebDavError,
  type WebDavOptions,
  withRetries,
} from "./webdav_request.ts";

/** Progress of an upload or a download, reported per chunk. */
export interface TransferProgress {
  /** Which direction. */
  readonly type: "upload" | "download";
  /** Bytes sent or received so far in this attempt. */
  readonly doneBytes: number;
  /** Size of the file (upload), or the announced length (download; 0 when unknown). */
  readonly totalBytes: number;
  /** 1-based attempt number. */
  readonly attempt: number;
}

/** Options of {@linkcode putFile} and {@linkcode download}. */
export interface TransferOptions extends WebDavOptions {
  /** Called synchronously per chunk; an exception it throws fails the transfer. */
  onProgress?: (event: TransferProgress) => void;
}

/** What a transfer did. */
export interface TransferResult {
  /** Bytes transferred by the successful attempt. */
  readonly bytes: number;
  /** Attempts made, including the successful one. */
  readonly attempts: number;
  /** The entity tag the server gave, if any. */
  readonly etag: string | undefined;
}

/** What HEAD says about a resource. */
export interface ResourceInfo {
  /** Content-Length, when the server sent one. */
  readonly size: number | undefined;
  /** The entity tag, when the server sent one. */
  readonly etag: string | undefined;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Whether `destination` is a WebDAV URL (`http:` or `https:`) rather than a path.
 *
 * @example
 * ```ts
 * import { isWebDavUrl } from "./webdav.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isWebDavUrl("https://share.example/images/a.wim") && !isWebDavUrl("/mnt/a.wim"));
 * ```
 */
export function isWebDavUrl(destination: string): boolean {
  return /^https?:\/\//i.test(destination);
}

/**
 * The URL without `user:password@`, for messages and reports.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./webdav.ts";
 * import assert from "node:assert/strict";
 * assert.ok(redactUrl("http://me:secret@127.0.0.1:8080/a.wim") === "http://127.0.0.1:8080/a.wim");
 * ```
 */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.href;
}

/**
 * Uploads the local file at `localPath` to `url` with a streaming PUT (never buffering the whole
 * file), restarting the upload after a transient failure.
 *
 * `url` may be a function of the 1-based attempt: a server may still finish writing an upload
 * that the network cut (rclone does), so an upload under a temporary name should take a fresh
 * name per attempt, lest a late partial write replace a complete one.
 *
 * @throws {WimkitError} If the file cannot be read, or the upload fails for good
 *   ({@linkcode WebDavError} with the status).
 *
 * @example Publish a file
 * ```ts ignore
 * const result = await putFile("http://127.0.0.1:8080/share/a.wim", "a.wim", { retries: 5 });
 * console.log(result.attempts);
 * ```
 */
export async function putFile(
  url: string | ((attempt: number) => string),
  localPath: string,
  options: TransferOptions = {},
): Promise<TransferResult & { readonly url: string }> {
  const urlFor = typeof url === "string" ? () => url : url;
  const firstUrl = urlFor(1);
  const first = parseTarget(firstUrl);
  let totalBytes: number;
  try {
    totalBytes = (await Deno.stat(localPath)).size;
  } catch (error) {
    throw new WimkitError(`Cannot upload "${localPath}": ${describe(error)}`, "io", {
      file: localPath,
      cause: error,
    });
  }
  return await withRetries(`Cannot upload "${localPath}" to "${first.shown}"`, first, options, {
    async attempt(attempt, signal, touch) {
      const attemptUrl = attempt === 1 ? firstUrl : urlFor(attempt);
      const target = attempt === 1 ? first : parseTarget(attemptUrl);
      const file = await Deno.open(localPath, { read: true });
      let doneBytes = 0;
      let closed = false;
      let fatal: Fatal | undefined;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (closed) return;
          const buffer = new Uint8Array(CHUNK_BYTES);
          let read: number | null;
          try {
            read = await file.read(buffer);
          } catch (error) {
            // Only a local read failure is final; a cut connection is retried.
            const local = localError(`Cannot read "${localPath}"`, localPath, error);
            fatal = new Fatal(local);
            throw local;
          }
          // The request may have given up on the body while the file was read (connection cut).
          if (closed) return;
          if (read === null) {
            closed = true;
            return controller.close();
          }
          doneBytes += read;
          touch();
          options.onProgress?.({ type: "upload", doneBytes, totalBytes, attempt });
          controller.enqueue(buffer.subarray(0, read));
        },
        cancel() {
          closed = true;
        },
      });
      try {
        const response = await send(target, "PUT", signal, options, {}, body);
        await expectStatus(response, [200, 201, 204], target);
        if (doneBytes !== totalBytes) {
          throw new Fatal(
            new WimkitError(
              `Cannot upload "${localPath}": it changed size during the upload (${totalBytes} bytes, then ${doneBytes})`,
              "io",
              { file: localPath },
            ),
          );
        }
        return {
          bytes: doneBytes,
          attempts: attempt,
          etag: etagOf(response),
          url: attemptUrl,
        };
      } catch (error) {
        throw fatal ?? error;
      } finally {
        closed = true;
        file.close();
      }
    },
  });
}

/**
 * Downloads `url` into the local file `localPath` (created or replaced), streaming.
 *
 * @throws {WebDavError} If the download fails for good; code "not-found" for a 404.
 *
 * @example Fetch a published WIM
 * ```ts ignore
 * const result = await download("http://127.0.0.1:8080/share/a.wim", "copy.wim");
 * console.log(result.bytes);
 * ```
 */
export async function download(
  url: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const target = parseTarget(url);
  return await withRetries(`Cannot download "${target.shown}"`, target, options, {
    async attempt(attempt, signal, touch) {
      const response = await send(target, "GET", signal, options);
      await expectStatus(response, [200], target, true);
      const announced = Number(response.headers.get("content-length") ?? "");
      const totalBytes = Number.isSafeInteger(announced) ? announced : 0;
      using file = await Deno.open(localPath, { write: true, create: true, truncate: true });
      let doneBytes = 0;
      for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
        try {
          for (let written = 0; written < chunk.length;) {
            written += await file.write(chunk.subarray(written)).catch((error) => {
              throw localError(`Cannot write "${localPath}"`, localPath, error);
            });
          }
          doneBytes += chunk.length;
          touch();
          options.onProgress?.({ type: "download", doneBytes, totalBytes, attempt });
        } catch (error) {
          throw new Fatal(error);
        }
      }
      if (totalBytes > 0 && doneBytes !== totalBytes) {
        throw new WebDavError(
          `${target.shown} ended after ${doneBytes} of ${totalBytes} bytes`,
          { file: target.shown, transient: true },
        );
      }
      return { bytes: doneBytes, attempts: attempt, etag: etagOf(response) };
    },
  });
}

/**
 * Asks for the size and entity tag of `url`; null when it does not exist.
 *
 * @example
 * ```ts ignore
 * const info = await head("http://127.0.0.1:8080/share/a.wim");
 * console.log(info?.size);
 * ```
 */
export async function head(
  url: string,
  options: WebDavOptions = {},
): Promise<ResourceInfo | null> {
  const target = parseTarget(url);
  return await withRetries(`Cannot look up "${target.shown}"`, target, options, {
    async attempt(_attempt, signal) {
      const response = await send(target, "HEAD", signal, options);
      await response.body?.cancel();
      if (response.status === 404) return null;
      await expectStatus(response, [200], target);
      const length = Number(response.headers.get("content-length") ?? "");
      return {
        size: response.headers.has("content-length") && Number.isSafeInteger(length)
          ? length
          : undefined,
        etag: etagOf(response),
      };
    },
  });
}

/**
 * Whether `url` exists on the server.
 *
 * @example
 * ```ts ignore
 * if (await exists("http://127.0.0.1:8080/share/a.wim")) console.log("already there");
 * ```
 */
export async function exists(url: string, options: WebDavOptions = {}): Promise<boolean> {
  return (await head(url, options)) !== null;
}

/**
 * Renames `from` to `to` on the server with MOVE; with `overwrite`, replaces `to` atomically
 * where the server's filesystem allows it.
 *
 * @throws {WebDavError} If the server refuses (e.g. 412 when `to` exists without `overwrite`).
 *
 * @example
 * ```ts ignore
 * await move("http://h/share/a.wim.tmp", "http://h/share/a.wim", { overwrite: true });
 * ```
 */
export async function move(
  from: string,
  to: string,
  options: WebDavOptions & { overwrite?: boolean } = {},
): Promise<void> {
  const source = parseTarget(from);
  const destination = parseTarget(to);
  await withRetries(
    `Cannot move "${source.shown}" to "${destination.shown}"`,
    source,
    options,
    {
      async attempt(attempt, signal) {
        const response = await send(source, "MOVE", signal, options, {
          destination: destination.url,
          overwrite: options.overwrite ? "T" : "F",
        });
        // A retried MOVE whose first try went through finds no source; the destination tells.
        if (response.status === 404 && attempt > 1) {
          await response.body?.cancel();
          if (await exists(to, { ...options, retries: 0 })) return;
        }
        await expectStatus(response, [201, 204], source);
      },
    },
  );
}

/**
 * Deletes `url`; returns false when it did not exist.
 *
 * @example
 * ```ts ignore
 * await remove("http://127.0.0.1:8080/share/a.wim.wimkit-upload-1234");
 * ```
 */
export async function remove(url: string, options: WebDavOptions = {}): Promise<boolean> {
  const target = parseTarget(url);
  return await withRetries(`Cannot delete "${target.shown}"`, target, options, {
    async attempt(_attempt, signal) {
      const response = await send(target, "DELETE", signal, options);
      if (response.status === 404) {
        await response.body?.cancel();
        return false;
      }
      await expectStatus(response, [200, 202, 204], target);
      return true;
    },
  });
}

/**
 * Creates the collection (folder) `url`; returns false when it already existed.
 *
 * @example
 * ```ts ignore
 * await mkcol("http://127.0.0.1:8080/share/images/");
 * ```
 */
export async function mkcol(url: string, options: WebDavOptions = {}): Promise<boolean> {
  const target = parseTarget(url);
  return await withRetries(`Cannot create the folder "${target.shown}"`, target, options, {
    async attempt(_attempt, signal) {
      const response = await send(target, "MKCOL", signal, options);
      if (response.status === 405) {
        await response.body?.cancel();
        return false;
      }
      await expectStatus(response, [200, 201], target);
      return true;
    },
  });
}

/**
 * Creates every missing folder above `url`, from the top down.
 *
 * @example
 * ```ts ignore
 * await makeParents("http://127.0.0.1:8080/share/2024/06/a.wim");
 * ```
 */
export async function makeParents(url: string, options: WebDavOptions = {}): Promise<void> {
  const parsed = new URL(url);
  const segments = parsed.pathname.split("/").slice(1, -1);
  for (let count = 1; count <= segments.length; count++) {
    parsed.pathname = `/${segments.slice(0, count).join("/")}/`;
    if (segments[count - 1] !== "") await mkcol(parsed.href, options);
  }
}
