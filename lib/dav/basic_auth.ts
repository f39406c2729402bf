/** HTTP Basic authentication (RFC 7617) with a constant-time comparison of the credentials. */

import { createHash, timingSafeEqual } from "node:crypto";

/** A user name and password. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Returns a checker that is true when a request's Authorization header carries `credentials`.
 * Both sides are hashed first so the comparison takes the same time whatever their lengths.
 *
 * @example
 * ```ts
 * import { basicAuthChecker } from "./basic_auth.ts";
 * import assert from "node:assert/strict";
 * const check = basicAuthChecker({ user: "u", password: "p" });
 * assert.ok(check(`Basic ${btoa("u:p")}`) && !check(`Basic ${btoa("u:q")}`) && !check(null));
 * ```
 */
export function basicAuthChecker(credentials: Credentials): (header: string | null) => boolean {
  const expected = digest(`${credentials.user}:${credentials.password}`);
  const decoder = new TextDecoder();
  return (header) => {
    const match = header === null ? null : /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    let given = "";
    if (match) {
      try {
        given = decoder.decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
      } catch {
        given = "";
      }
    }
    return timingSafeEqual(digest(given), expected) && match !== null;
  };
}
