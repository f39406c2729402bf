/** Starts a WebDAV server (`Deno.serve`) for an image view and reports where it listens. */

import type { ImageView } from "../view/types.ts";
import { DavService, type DavServiceOptions } from "./dav_handler.ts";

/** Options of {@linkcode serveDav}. */
export interface ServeDavOptions extends DavServiceOptions {
  /** Address to bind (default 127.0.0.1). */
  readonly hostname?: string;
  /** Port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Stops the server when aborted. */
  readonly signal?: AbortSignal;
}

/** A running server. */
export interface DavServer extends AsyncDisposable {
  /** The base URL, e.g. "http://127.0.0.1:8080/". */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The service answering requests (commit, discard, changes). */
  readonly service: DavService;
  /** Stops accepting requests and waits for those in progress. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Serves `view` over WebDAV until shut down or `signal` aborts.
 *
 * @example Serve an image read-only on a free loopback port
 * ```ts ignore
 * import { serveDav } from "./dav_server.ts";
 * await using server = await serveDav(view, { port: 0 });
 * const response = await fetch(server.url, { method: "PROPFIND", headers: { depth: "1" } });
 * console.assert(response.status === 207);
 * ```
 */
export async function serveDav(view: ImageView, options: ServeDavOptions = {}): Promise<DavServer> {
  const service = new DavService(view, options);
  const hostname = options.hostname ?? "127.0.0.1";
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const httpServer = Deno.serve({
    hostname,
    port: options.port ?? 0,
    ...(options.signal ? { signal: options.signal } : {}),
    onListen: (addr) => resolve(addr),
    onError: (error) => {
      options.onError?.(error, new Request("http://invalid/"));
      return new Response("internal error\n", { status: 500 });
    },
  }, (request) => service.handle(request));
  const addr = await listening;
  const urlHost = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const shutdown = async () => {
    await httpServer.shutdown();
  };
  return {
    url: `http://${urlHost}:${addr.port}/`,
    port: addr.port,
    service,
    shutdown,
    finished: httpServer.finished,
    async [Symbol.asyncDispose]() {
      await shutdown();
    },
  };
}
