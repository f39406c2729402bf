/**
 * Shared pieces of the WebDAV tests: a WIM made by wimlib-imagex from a generated tree, served
 * in-process over a real ImageView on 127.0.0.1, raw HTTP over TCP (fetch normalizes `..`), and
 * checks of the committed image through wimlib-imagex.
 */

import { InlineChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { type DavServer, serveDav } from "../../lib/dav/dav_server.ts";
import type { DavServiceOptions } from "../../lib/dav/dav_handler.ts";
import { openImageView } from "../../lib/view/image_view.ts";
import type { ImageView } from "../../lib/view/types.ts";
import { makeTree } from "../support/trees.ts";
import { tempDir, wimlib } from "../support/wimlib.ts";

/** A served WIM: its files, the server, and a way to check the result with wimlib-imagex. */
export interface ServedWim extends AsyncDisposable {
  readonly dir: string;
  readonly wimPath: string;
  /** The generated tree the WIM was captured from. */
  readonly source: string;
  readonly view: ImageView;
  readonly server: DavServer;
  /** Base URL without the trailing slash. */
  readonly base: string;
}

/** Options of {@linkcode serveTestWim}. */
export interface ServeTestWimOptions extends DavServiceOptions {
  /** Compression for wimlib-imagex capture (default LZX). */
  compress?: string;
  /** Fill the source tree yourself instead of makeTree. */
  fill?: (root: string) => Promise<void>;
}

/** Captures a generated tree with wimlib-imagex and serves image 1 on a free loopback port. */
export async function serveTestWim(options: ServeTestWimOptions = {}): Promise<ServedWim> {
  const dir = await tempDir("wimkit-dav-");
  const source = `${dir.path}/source`;
  await Deno.mkdir(source);
  if (options.fill) await options.fill(source);
  else await makeTree(source, { noSymlinks: false });
  const wimPath = `${dir.path}/image.wim`;
  await wimlib("capture", source, wimPath, "served", `--compress=${options.compress ?? "LZX"}`);
  const pool = new InlineChunkPool();
  const view = await openImageView(wimPath, 1, {
    writable: options.writable ?? false,
    pool,
    stagingDir: dir.path,
  });
  const server = await serveDav(view, { port: 0, ...options });
  return {
    dir: dir.path,
    wimPath,
    source,
    view,
    server,
    base: server.url.replace(/\/$/, ""),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await view[Symbol.asyncDispose]();
      pool[Symbol.dispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Applies image `image` of `wimPath` with wimlib-imagex into a new directory under `dir`. */
export async function applyWithWimlib(wimPath: string, dir: string, image = 1): Promise<string> {
  const target = `${dir}/applied-${crypto.randomUUID()}`;
  await wimlib("apply", wimPath, String(image), target);
  return target;
}

/** Sends raw bytes to 127.0.0.1:`port` and returns the response head's status (and the text). */
export async function rawRequest(
  port: number,
  head: string,
  body?: Uint8Array,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, new TextEncoder().encode(head));
    if (body) await writeAll(conn, body);
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      const text = new TextDecoder().decode(concat(chunks));
      if (responseComplete(text)) break;
    }
    const text = new TextDecoder().decode(concat(chunks));
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? "0");
    return { status, text };
  } finally {
    conn.close();
  }
}

function responseComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  if (length) return new TextEncoder().encode(text.slice(end + 4)).length >= Number(length[1]);
  return /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, end))
    ? text.endsWith("0\r\n\r\n")
    : true;
}

/** Writes every byte of `data` to `conn`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}

/** Concatenates byte arrays. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A WebDAV request with fetch; the body is consumed and returned as text. */
export async function dav(
  url: string,
  method: string,
  options: { headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, {
    method,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A `wimkit serve` child process. */
export interface ServeProcess extends AsyncDisposable {
  /** Base URL without the trailing slash. */
  readonly base: string;
  readonly pid: number;
  /** Sends `signal` and returns the exit code and everything written to stderr. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stderr: string }>;
}

/** Starts `deno run tasks/cli.ts serve ARGS --json --port 0` and waits for its URL. */
export async function startServeCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../../tasks/cli.ts", import.meta.url).pathname,
      "serve",
      ...args,
      "--json",
      "--port",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  while (!stdout.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(`serve exited with ${status.code}: ${await stderrText}`);
    }
    stdout += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  const info = JSON.parse(stdout.split("\n")[0]!) as { url: string };
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  const stop = (signal: Deno.Signal = "SIGINT") => {
    stopped ??= (async () => {
      child.kill(signal);
      const status = await child.status;
      await drained;
      return { code: status.code, stderr: await stderrText };
    })();
    return stopped;
  };
  return {
    base: info.url.replace(/\/$/, ""),
    pid: child.pid,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGTERM").catch(() => {});
    },
  };
}

/** Resident memory of process `pid` in bytes, from `ps` (reading /proc needs --allow-all). */
export async function residentBytes(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim() || "0") * 1024;
}
