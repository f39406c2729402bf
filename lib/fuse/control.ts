/**
 * The control channel between `wimkit unmount` and a running `wimkit mount`: a unix socket in
 * the runtime directory ($XDG_RUNTIME_DIR, else the temp directory) named after a hash of the
 * mount point. The client sends one JSON line (`{"action":"commit"}` or `"discard"`); the mount
 * process unmounts, commits or discards, answers one JSON line and exits.
 */

import { createHash } from "node:crypto";
import { WimkitError } from "../errors.ts";

/** What `unmount` asks for. */
export interface UnmountRequest {
  action: "commit" | "discard";
  /** Commit as a new image with this name instead of updating the mounted one. */
  newImage?: string;
}

/** What the mount process answers. */
export interface UnmountResponse {
  ok: boolean;
  /** The error when `ok` is false. */
  message?: string;
  /** What happened to the changes. */
  action?: "commit" | "discard";
  /** 1-based image index holding the committed changes. */
  image?: number;
  /** Bytes of new content written by the commit. */
  newBytes?: number;
  /** True when there were changes (committed or dropped). */
  changed?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Longest request or response accepted, in bytes. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** The absolute, normalised form of `mountpoint` (symlinks resolved when possible). */
export async function canonicalMountpoint(mountpoint: string): Promise<string> {
  try {
    return await Deno.realPath(mountpoint);
  } catch {
    const absolute = mountpoint.startsWith("/") ? mountpoint : `${Deno.cwd()}/${mountpoint}`;
    return absolute.replace(/\/+$/, "") || "/";
  }
}

/**
 * The control socket path of the mount at `mountpoint` (already canonical).
 *
 * @example
 * ```ts
 * import { controlSocketPath } from "./control.ts";
 * import assert from "node:assert/strict";
 * const path = controlSocketPath("/mnt/image");
 * assert.ok(path.endsWith(".sock") && path === controlSocketPath("/mnt/image"));
 * ```
 */
export function controlSocketPath(mountpoint: string): string {
  const base = Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";
  const hash = createHash("sha1").update(mountpoint).digest("hex").slice(0, 16);
  return `${base}/wimkit-mount-${hash}.sock`;
}

async function readLine(conn: Deno.Conn): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(4096);
  while (total < MAX_MESSAGE_BYTES) {
    const count = await conn.read(buffer);
    if (count === null) break;
    const chunk = buffer.slice(0, count);
    chunks.push(chunk);
    total += count;
    if (chunk.includes(10)) break;
  }
  if (total === 0) return null;
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return decoder.decode(all).split("\n")[0]!;
}

/** A listening control socket; dispose to stop listening and remove the socket file. */
export interface ControlServer extends AsyncDisposable {
  readonly path: string;
}

/**
 * Listens on `path` and answers each request with `handler`'s response; `onAnswered` runs once
 * the response has been written (or the client has gone).
 *
 * @throws {WimkitError} "refused" when another live mount process owns the socket.
 */
export async function serveControl(
  path: string,
  handler: (request: UnmountRequest) => Promise<UnmountResponse>,
  onAnswered: (response: UnmountResponse) => void = () => {},
): Promise<ControlServer> {
  if (await socketAnswers(path)) {
    throw new WimkitError(`Cannot mount: a wimkit mount already serves "${path}"`, "refused");
  }
  await Deno.remove(path).catch(() => {});
  const listener = Deno.listen({ transport: "unix", path });
  const loop = (async () => {
    for await (const conn of listener) {
      let response: UnmountResponse | undefined;
      try {
        const request = parseRequest(await readLine(conn));
        response = request ? await handler(request) : { ok: false, message: "bad control request" };
        await conn.write(encoder.encode(JSON.stringify(response) + "\n"));
      } catch {
        // The client went away; nothing more to answer.
      } finally {
        conn.close();
        if (response) onAnswered(response);
      }
    }
  })();
  return {
    path,
    async [Symbol.asyncDispose]() {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await loop.catch(() => {});
      await Deno.remove(path).catch(() => {});
    },
  };
}

function parseRequest(line: string | null): UnmountRequest | null {
  if (line === null) return null;
  try {
    const value = JSON.parse(line);
    if (value.action !== "commit" && value.action !== "discard") return null;
    return typeof value.newImage === "string"
      ? { action: value.action, newImage: value.newImage }
      : { action: value.action };
  } catch {
    return null;
  }
}

async function socketAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks the mount process behind `socketPath` to commit or discard and unmount; resolves with its
 * answer, or null when no mount process listens there.
 *
 * @throws {WimkitError} "io" when the mount process ends without answering.
 */
export async function sendUnmountRequest(
  socketPath: string,
  request: UnmountRequest,
): Promise<UnmountResponse | null> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socketPath });
  } catch {
    return null;
  }
  try {
    await conn.write(encoder.encode(JSON.stringify(request) + "\n"));
    const line = await readLine(conn);
    if (line === null) {
      throw new WimkitError("The mount process ended without answering", "io");
    }
    return JSON.parse(line) as UnmountResponse;
  } finally {
    conn.close();
  }
}
