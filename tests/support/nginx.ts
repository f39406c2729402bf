/**
 * A real HTTP server for tests: Debian's nginx started as a child process on 127.0.0.1 with a
 * free port, a temporary prefix and a generated configuration, plus a parser for its access log.
 *
 * Tests that need it use `Deno.test({ ignore: !hasNginx })`.
 *
 * ```ts ignore
 * await using server = await startNginx({ root: dir });
 * await fetch(server.url("big.wim"), { headers: { range: "bytes=0-207" } });
 * const sent = sumBytesSent(await server.accessLog());
 * ```
 */

import { hasCommand } from "./tools.ts";

/** Where Debian installs nginx. */
export const NGINX_PATH = "/usr/sbin/nginx";

/** True when nginx runs here. */
export const hasNginx: boolean = await hasCommand(NGINX_PATH, ["-v"], { succeeds: true });
/** Options for {@linkcode startNginx}. */
export interface NginxOptions {
  /** Directory served at `/`. */
  root: string;
  /** Serve without Range support (`max_ranges 0`: a Range request gets the whole file, 200). */
  noRanges?: boolean;
  /** Bytes per second per connection (`limit_rate`), to make transfers slow. */
  limitRateBytes?: number;
  /** Extra directives for the `server` block. */
  extraServerConfig?: string;
  /** Serve HTTPS with this certificate chain and key (PEM files). */
  listenTls?: { certificate: string; key: string };
}

/** One line of the access log. */
export interface AccessLogEntry {
  method: string;
  uri: string;
  status: number;
  /** `$body_bytes_sent`: body bytes nginx sent (headers not counted). */
  bodyBytesSent: number;
  /** The request's Range header, "" when none. */
  range: string;
  /** The request's If-Range header, "" when none. */
  ifRange: string;
  /** `$connection`: the connection serial number. */
  connection: number;
}

/** A running nginx; `await using` stops it and removes its prefix. */
export interface NginxServer extends AsyncDisposable {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** `http://127.0.0.1:PORT` (or https). */
  readonly origin: string;
  /** The temporary prefix (config, logs, pid). */
  readonly prefix: string;
  /** URL of `path` (relative to the served root). */
  url(path: string): string;
  /** Parsed access log so far. */
  accessLog(): Promise<AccessLogEntry[]>;
  /** Empties the access log (nginx keeps appending to the same file). */
  clearAccessLog(): Promise<void>;
  /** Contents of the error log. */
  errorLog(): Promise<string>;
  /** Stops nginx and removes the prefix. */
  stop(): Promise<void>;
}

const LOG_FORMAT =
  `'$request_method $request_uri $status $body_bytes_sent "$http_range" "$http_if_range" $connection'`;

/**
 * Starts nginx serving `options.root` on a free port of 127.0.0.1 and waits until it accepts
 * connections.
 */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const prefix = await Deno.makeTempDir({ prefix: "wimkit-nginx-" });
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const config = nginxConfig(prefix, port, options);
    await Deno.writeTextFile(`${prefix}/nginx.conf`, config);
    await Deno.writeTextFile(`${prefix}/access.log`, "");
    const child = new Deno.Command(NGINX_PATH, {
      args: ["-p", `${prefix}/`, "-c", `${prefix}/nginx.conf`, "-e", `${prefix}/error.log`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const ready = await waitForPort(port, child);
    if (!ready) {
      const status = await Promise.race([child.status, delay(200).then(() => null)]);
      if (status === null) child.kill("SIGKILL");
      await child.status;
      const errors = await stderr + await Deno.readTextFile(`${prefix}/error.log`).catch(() => "");
      if (attempt < 3 && /Address already in use/.test(errors)) continue;
      await Deno.remove(prefix, { recursive: true }).catch(() => {});
      throw new Error(`nginx did not start: ${errors.trim()}`);
    }
    const scheme = options.listenTls ? "https" : "http";
    const origin = `${scheme}://127.0.0.1:${port}`;
    let stopped = false;
    const server: NginxServer = {
      port,
      origin,
      prefix,
      url: (path) => `${origin}/${path.replace(/^\/+/, "")}`,
      async accessLog() {
        return parseAccessLog(await Deno.readTextFile(`${prefix}/access.log`));
      },
      async clearAccessLog() {
        await Deno.truncate(`${prefix}/access.log`, 0);
      },
      async errorLog() {
        return await Deno.readTextFile(`${prefix}/error.log`).catch(() => "");
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        const status = await Promise.race([child.status, delay(3000).then(() => null)]);
        if (status === null) {
          child.kill("SIGKILL");
          await child.status;
        }
        await stderr;
        await Deno.remove(prefix, { recursive: true }).catch(() => {});
      },
      [Symbol.asyncDispose]() {
        return server.stop();
      },
    };
    return server;
  }
}

/** The generated configuration: one worker in the foreground, everything under `prefix`. */
function nginxConfig(prefix: string, port: number, options: NginxOptions): string {
  const listen = options.listenTls
    ? `listen 127.0.0.1:${port} ssl;
      ssl_certificate ${options.listenTls.certificate};
      ssl_certificate_key ${options.listenTls.key};`
    : `listen 127.0.0.1:${port};`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 512; }
http {
  log_format wimkit ${LOG_FORMAT};
  access_log ${prefix}/access.log wimkit;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  types { application/octet-stream wim swm esd; }
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000;
  server {
    ${listen}
    root ${options.root};
    ${options.noRanges ? "max_ranges 0;" : ""}
    ${options.limitRateBytes ? `limit_rate ${options.limitRateBytes};` : ""}
    ${options.extraServerConfig ?? ""}
  }
}
`;
}

/**
 * Parses an access log written with this module's format.
 *
 * @example
 * ```ts
 * import { parseAccessLog } from "./nginx.ts";
 * const [entry] = parseAccessLog('GET /a.wim 206 208 "bytes=0-207" "" 3\n');
 * console.assert(entry!.bodyBytesSent === 208 && entry!.range === "bytes=0-207");
 * ```
 */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\S+) (\S+) (\d+) (\d+) "([^"]*)" "([^"]*)" (\d+)$/.exec(line.trim());
    if (!match) continue;
    entries.push({
      method: match[1]!,
      uri: match[2]!,
      status: Number(match[3]),
      bodyBytesSent: Number(match[4]),
      range: unescapeLog(match[5]!),
      ifRange: unescapeLog(match[6]!),
      connection: Number(match[7]),
    });
  }
  return entries;
}

/** Undoes nginx's `\xHH` escaping of `"` and control bytes; "-" (no value) becomes "". */
function unescapeLog(value: string): string {
  if (value === "-") return "";
  return value.replace(
    /\\x([0-9A-Fa-f]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
}

/** Sum of `$body_bytes_sent` over `entries` (optionally only those whose URI ends with `uriSuffix`). */
export function sumBytesSent(entries: readonly AccessLogEntry[], uriSuffix?: string): number {
  let total = 0;
  for (const entry of entries) {
    if (uriSuffix === undefined || entry.uri.endsWith(uriSuffix)) total += entry.bodyBytesSent;
  }
  return total;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      await delay(50);
    }
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
