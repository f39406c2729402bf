/**
 * A misbehaving HTTP proxy for tests: forwards requests to an upstream server (nginx) but, at
 * random with a fixed seed, answers 503 or drops the connection in the middle of the body.
 *
 * ```ts ignore
 * await using proxy = startFlakyProxy({ upstream: server.origin, seed: 7 });
 * await fetch(proxy.url("a.wim"));
 * ```
 */

import { prng } from "./trees.ts";

/** Options for {@linkcode startFlakyProxy}. */
export interface FlakyProxyOptions {
  /** Origin to forward to, e.g. `http://127.0.0.1:8080`. */
  upstream: string;
  /** Seed of the random choices (the same seed gives the same sequence of faults). */
  seed: number;
  /** Probability of answering 503 instead of forwarding (default 0.15). */
  unavailableRate?: number;
  /** Probability of cutting the body after a random part of it (default 0.15). */
  dropRate?: number;
  /** Faults start after this many requests (default 1: the first request succeeds). */
  healthyRequests?: number;
}

/** A running proxy; `await using` stops it. */
export interface FlakyProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** URL of `path` through the proxy. */
  url(path: string): string;
  /** How many requests got each treatment so far. */
  readonly counts: { forwarded: number; unavailable: number; dropped: number };
  /** Stops the proxy. */
  stop(): Promise<void>;
}

/** Starts the proxy on a free port of 127.0.0.1. */
export function startFlakyProxy(options: FlakyProxyOptions): FlakyProxy {
  const random = prng(options.seed);
  const unavailableRate = options.unavailableRate ?? 0.15;
  const dropRate = options.dropRate ?? 0.15;
  const healthy = options.healthyRequests ?? 1;
  const counts = { forwarded: 0, unavailable: 0, dropped: 0 };
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      const roll = random();
      const faulty = requests++ >= healthy;
      if (faulty && roll < unavailableRate) {
        counts.unavailable++;
        return new Response("try again later\n", { status: 503 });
      }
      const headers = new Headers();
      for (const name of ["range", "if-range", "if-match", "if-none-match"]) {
        const value = request.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      const upstream = await fetch(`${options.upstream}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
      });
      const outHeaders = new Headers();
      for (
        const name of ["content-range", "etag", "last-modified", "accept-ranges", "content-type"]
      ) {
        const value = upstream.headers.get(name);
        if (value !== null) outHeaders.set(name, value);
      }
      if (!(faulty && roll < unavailableRate + dropRate) || !upstream.body) {
        counts.forwarded++;
        return new Response(upstream.body, { status: upstream.status, headers: outHeaders });
      }
      counts.dropped++;
      const length = Number(upstream.headers.get("content-length") ?? "0");
      outHeaders.set("content-length", String(length));
      const cutAt = Math.floor(random() * length);
      return new Response(truncatedBody(upstream.body, cutAt), {
        status: upstream.status,
        headers: outHeaders,
      });
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  let stopped = false;
  const proxy: FlakyProxy = {
    origin,
    url: (path) => `${origin}/${path.replace(/^\/+/, "")}`,
    counts,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.shutdown();
    },
    [Symbol.asyncDispose]() {
      return proxy.stop();
    },
  };
  return proxy;
}

/** Passes `cutAt` bytes of `body` through, then fails: the server drops the connection. */
function truncatedBody(
  body: ReadableStream<Uint8Array>,
  cutAt: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      if (sent + value.length >= cutAt) {
        if (cutAt > sent) controller.enqueue(value.subarray(0, cutAt - sent));
        await reader.cancel().catch(() => {});
        controller.close();
        return;
      }
      sent += value.length;
      controller.enqueue(value);
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  });
}
