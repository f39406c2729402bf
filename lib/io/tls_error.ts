/**
 * Recognises a `fetch` that failed because the server's TLS certificate was rejected, and says
 * why in words a user can act on.
 *
 * Deno's `fetch` reports every network failure as `TypeError("fetch failed")`; the reason is in
 * the cause's message, as rustls words it: `... invalid peer certificate: UnknownIssuer`
 * (also `Expired`, `NotValidYet`, `NotValidForName`, `BadSignature`, `Revoked`, `Other(...)`).
 * A `DENO_CERT` naming a missing file fails each fetch the same way ("Failed opening CA file").
 * Neither is transient: retrying cannot help, so callers fail at once.
 *
 * Deno trusts its built-in Mozilla roots; `DENO_CERT=/path/ca.pem` adds a private CA (checked
 * with Deno 2.9), and `DENO_TLS_CA_STORE=system` uses the system's store instead.
 */

/** The hint every "not trusted" message ends with. */
export const TRUST_HINT =
  "to trust a private CA, run with DENO_CERT=/path/to/ca.pem (or DENO_TLS_CA_STORE=system to use the system's certificates)";

/**
 * Describes a rejected server certificate, or returns `undefined` when `error` is not one.
 *
 * @param error What `fetch` threw (its cause chain is searched).
 * @returns A message part such as "the server's TLS certificate is not trusted (issued by an
 * unknown CA); to trust a private CA, ...".
 *
 * @example Turn Deno's fetch error into a sentence
 * ```ts
 * import { describeTlsFailure } from "./tls_error.ts";
 * import assert from "node:assert/strict";
 * const error = new TypeError("fetch failed", {
 *   cause: new Error("client error (Connect): invalid peer certificate: UnknownIssuer"),
 * });
 * assert.ok(describeTlsFailure(error)?.includes("DENO_CERT=") === true);
 * assert.ok(describeTlsFailure(new TypeError("fetch failed")) === undefined);
 * ```
 */
export function describeTlsFailure(error: unknown): string | undefined {
  const caFile = /Failed opening CA file: ([^\n]+)/.exec(causeMessages(error));
  if (caFile) return `cannot load the CA certificates named by DENO_CERT: ${caFile[1]!.trim()}`;
  const reason = certificateReason(error);
  if (reason === undefined) return undefined;
  if (/UnknownIssuer|CaUsedAsEndEntity|UnknownCA/i.test(reason)) {
    return `the server's TLS certificate is not trusted (issued by an unknown CA); ${TRUST_HINT}`;
  }
  if (/expired/i.test(reason)) return `the server's TLS certificate has expired (${reason})`;
  if (/NotValidYet|not valid yet/i.test(reason)) {
    return `the server's TLS certificate is not valid yet (${reason})`;
  }
  if (/NotValidForName|not valid for name/i.test(reason)) {
    return `the server's TLS certificate is not valid for this host name or address (${reason})`;
  }
  return `the server's TLS certificate was rejected (${reason}); ${TRUST_HINT}`;
}

/** The rustls reason ("UnknownIssuer", ...) found in `error` or its causes. */
function certificateReason(error: unknown): string | undefined {
  const text = causeMessages(error);
  const match = /invalid peer certificate:\s*([^\n]+)/i.exec(text) ??
    /(UnknownIssuer|certificate verify failed|self[- ]signed certificate)/i.exec(text);
  return match?.[1]?.trim();
}

/** The messages of `error` and its causes, one a line. */
function causeMessages(error: unknown): string {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current);) {
    seen.add(current);
    messages.push(current.message);
    current = current.cause;
  }
  return messages.join("\n");
}
