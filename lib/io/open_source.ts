/**
 * Opens a WIM part by path or URL: a local file, or an http(s) URL read with Range requests (or,
 * when the server ignores Range, downloaded once to a temporary file).
 */

import { WimkitError } from "../errors.ts";
import type { ByteSource } from "./byte_source.ts";
import { openFileSource } from "./file_source.ts";
import {
  DEFAULT_HTTP_POLICY,
  httpStatusError,
  type HttpVersion,
  parseContentRange,
  readPiece,
  timedFetch,
  TransientHttpError,
  withRetries,
} from "./http_fetch.ts";
import { HttpRangeSource, type HttpSourceOptions } from "./http_source.ts";

/** Bytes the first request asks for; they are kept and serve the reads of the file's header. */
export const PROBE_BYTES = 4096;

/** Options for {@linkcode openSource}. */
export interface OpenSourceOptions extends HttpSourceOptions {
  /**
   * What to do when an HTTP server ignores Range requests: download the whole file once to a
   * temporary file and read that ("download", the default), or fail ("refuse").
   */
  noRange?: "download" | "refuse";
  /** Told about things the user should know (e.g. a download without Range support). */
  onWarning?: (message: string) => void;
}

/**
 * True when `location` is an http:// or https:// URL rather than a path.
 *
 * @example
 * ```ts
 * import { isUrl } from "./open_source.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isUrl("https://example.com/a.wim") && !isUrl("a.wim"));
 * ```
 */
export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/**
 * Opens a local path or an http(s) URL for random-access reads.
 *
 * @throws {WimkitError} If the file cannot be opened, or the server refuses or fails.
 *
 * @example
 * ```ts
 * import { openSource } from "./open_source.ts";
 * import assert from "node:assert/strict";
 * await using source = await openSource("tests/fixtures/xpress.wim");
 * assert.ok(source.size > 208);
 * ```
 */
export async function openSource(
  location: string,
  options: OpenSourceOptions = {},
): Promise<ByteSource> {
  if (!isUrl(location)) return openFileSource(location);
  return await openHttpSource(location, options);
}

/**
 * Opens an http(s) URL: the first request fetches {@linkcode PROBE_BYTES} and learns the size,
 * ETag and Last-Modified, which later requests pin.
 *
 * @throws {WimkitError} If the server answers with an error, or ignores Range and `noRange` is
 * "refuse".
 *
 * @example
 * ```ts ignore
 * await using source = await openHttpSource("http://127.0.0.1:8080/install.wim");
 * ```
 */
export async function openHttpSource(
  url: string,
  options: OpenSourceOptions = {},
): Promise<ByteSource> {
  const policy = {
    retries: options.retries ?? DEFAULT_HTTP_POLICY.retries,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_HTTP_POLICY.retryDelayMs,
    timeoutMs: options.timeoutMs ?? DEFAULT_HTTP_POLICY.timeoutMs,
  };
  return await withRetries(url, policy, async () => {
    const { response, abort } = await timedFetch(
      url,
      { range: `bytes=0-${PROBE_BYTES - 1}` },
      policy.timeoutMs,
    );
    const status = response.status;
    if (status === 408 || status === 429 || status >= 500) {
      abort();
      throw new TransientHttpError(`the server answered ${status} ${response.statusText}`);
    }
    if (status === 416) {
      abort();
      return emptySource(url);
    }
    if (status === 200) {
      if (options.noRange === "refuse") {
        abort();
        throw new WimkitError(
          `Cannot read "${url}": the server does not support Range requests (it sent the whole file)`,
          "refused",
          { file: url },
        );
      }
      const length = response.headers.get("content-length");
      options.onWarning?.(
        `"${url}": the server does not support Range requests; downloading the whole file${
          length ? ` (${length} bytes)` : ""
        } to a temporary file first`,
      );
      return await downloadToTempFile(url, response, abort, policy.timeoutMs);
    }
    if (status !== 206) throw httpStatusError(url, response);
    const range = parseContentRange(response.headers.get("content-range"));
    if (!range || range.first !== 0 || !response.body) {
      abort();
      throw new WimkitError(
        `Cannot read "${url}": the server sent an invalid Content-Range "${
          response.headers.get("content-range") ?? ""
        }"`,
        "io",
        { file: url },
      );
    }
    const etag = response.headers.get("etag");
    const version: HttpVersion = {
      size: range.total,
      // If-Range needs a strong validator: a weak ETag falls back to Last-Modified.
      etag: etag && !etag.startsWith("W/") ? etag : undefined,
      lastModified: response.headers.get("last-modified") ?? undefined,
    };
    if (version.etag === undefined && version.lastModified === undefined) {
      options.onWarning?.(
        `"${url}": the server sends neither ETag nor Last-Modified; a change of the file during the operation can only be detected by its size`,
      );
    }
    const head = new Uint8Array(await readBody(response, abort, policy.timeoutMs));
    if (head.length !== range.last + 1) {
      throw new TransientHttpError(`the first response was cut short at ${head.length} bytes`);
    }
    return new HttpRangeSource(url, version, head, options);
  });
}

async function readBody(
  response: Response,
  abort: () => void,
  timeoutMs: number,
): Promise<Uint8Array> {
  const reader = response.body!.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await readPiece({ reader, abort }, timeoutMs);
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/**
 * Streams a whole-file response into a temporary file and opens that; the file is deleted when
 * the source is closed. A download cut short is retried from the start by the caller.
 */
async function downloadToTempFile(
  url: string,
  response: Response,
  abort: () => void,
  timeoutMs: number,
): Promise<ByteSource> {
  const expected = response.headers.get("content-length");
  const path = await Deno.makeTempFile({ prefix: "wimkit-download-", suffix: ".wim" });
  let ok = false;
  try {
    const file = await Deno.open(path, { write: true, truncate: true });
    let written = 0;
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await readPiece({ reader, abort }, timeoutMs);
        if (done) break;
        let pos = 0;
        while (pos < value.length) pos += await file.write(value.subarray(pos));
        written += value.length;
      }
    } finally {
      file.close();
    }
    if (expected !== null && Number(expected) !== written) {
      throw new TransientHttpError(`the download ended at ${written} of ${expected} bytes`);
    }
    const source = openFileSource(path);
    ok = true;
    const close = () => {
      source.close();
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    };
    return {
      name: url,
      size: source.size,
      read: (offset, length, into) => source.read(offset, length, into),
      close,
      [Symbol.asyncDispose]() {
        close();
        return Promise.resolve();
      },
    };
  } finally {
    if (!ok) await Deno.remove(path).catch(() => {});
  }
}

function emptySource(url: string): ByteSource {
  const source: ByteSource = {
    name: url,
    size: 0,
    read: (offset, length) =>
      length === 0 && offset === 0 ? Promise.resolve(new Uint8Array(0)) : Promise.reject(
        new WimkitError(`Cannot read "${url}": the file is empty`, "format", { file: url }),
      ),
    close() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return source;
}
