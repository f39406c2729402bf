/**
 * WebDAV class 2 write locks (RFC 4918 §6, §7): exclusive and shared, depth 0 or infinity, with
 * timeouts that expire lazily. Locks live in memory for the server's life; they guard the view's
 * paths, not the WIM.
 */

import { encodeDavPath, isWithin } from "./dav_path.ts";
import { escapeXml } from "./dav_xml.ts";

/** One active lock. */
export interface ActiveLock {
  /** The lock token (a urn:uuid URI). */
  readonly token: string;
  /** Image path of the locked resource. */
  root: string;
  readonly depth: "0" | "infinity";
  readonly scope: "exclusive" | "shared";
  /** The DAV:owner element the client sent, serialized. */
  readonly ownerXml?: string;
  /** Seconds granted (Infinity for "Infinite"). */
  timeoutSeconds: number;
  /** When the lock expires, in ms since 1970. */
  expiresAt: number;
  /** True when the root was a collection when locked (for the lockroot href). */
  readonly collection: boolean;
}

/** The longest timeout granted, in seconds; longer requests are cut to this. */
export const MAX_LOCK_TIMEOUT_SECONDS = 7 * 24 * 3600;
/** The timeout granted when the client asks for none. */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 3600;

/**
 * Reads a Timeout header ("Second-N", "Infinite", a list of both) into seconds.
 *
 * @example
 * ```ts
 * import { parseTimeout } from "./locks.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseTimeout("Second-60, Infinite") === 60);
 * assert.ok(parseTimeout(null) === 3600);
 * ```
 */
export function parseTimeout(header: string | null): number {
  for (const part of (header ?? "").split(",")) {
    const value = part.trim();
    if (/^infinite$/i.test(value)) return Infinity;
    const match = /^second-(\d+)$/i.exec(value);
    if (match) return Math.min(Number(match[1]), MAX_LOCK_TIMEOUT_SECONDS);
  }
  return DEFAULT_LOCK_TIMEOUT_SECONDS;
}

/** What a new lock asks for. */
export interface LockRequest {
  readonly scope: "exclusive" | "shared";
  readonly depth: "0" | "infinity";
  readonly ownerXml?: string;
  readonly timeoutSeconds: number;
  readonly collection: boolean;
}

/**
 * The locks of one server.
 *
 * @example
 * ```ts
 * import { LockManager } from "./locks.ts";
 * import assert from "node:assert/strict";
 * const locks = new LockManager();
 * const lock = locks.create("/a", { scope: "exclusive", depth: "infinity", timeoutSeconds: 60, collection: true });
 * assert.ok(lock !== undefined && locks.covering("/a/b").length === 1);
 * assert.ok(locks.create("/a/b", { scope: "shared", depth: "0", timeoutSeconds: 60, collection: false }) === undefined);
 * ```
 */
export class LockManager {
  readonly #locks = new Map<string, ActiveLock>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #live(): ActiveLock[] {
    const now = this.#now();
    for (const [token, lock] of this.#locks) {
      if (lock.expiresAt <= now) this.#locks.delete(token);
    }
    return [...this.#locks.values()];
  }

  /** The lock with `token`, if it is still active. */
  get(token: string): ActiveLock | undefined {
    return this.#live().find((lock) => lock.token === token);
  }

  /** Locks whose scope includes `path`: on it, or depth-infinity locks on an ancestor. */
  covering(path: string): ActiveLock[] {
    return this.#live().filter((lock) =>
      lock.root === path || (lock.depth === "infinity" && isWithin(path, lock.root))
    );
  }

  /** Locks that cover `path` or are rooted anywhere below it. */
  coveringTree(path: string): ActiveLock[] {
    return this.#live().filter((lock) =>
      isWithin(lock.root, path) || (lock.depth === "infinity" && isWithin(path, lock.root))
    );
  }

  /** Creates a lock on `root`, or returns undefined when an existing lock conflicts. */
  create(root: string, request: LockRequest): ActiveLock | undefined {
    const affected = request.depth === "infinity" ? this.coveringTree(root) : this.covering(root);
    const conflict = affected.some((lock) =>
      lock.scope === "exclusive" || request.scope === "exclusive"
    );
    if (conflict) return undefined;
    const lock: ActiveLock = {
      token: `urn:uuid:${crypto.randomUUID()}`,
      root,
      depth: request.depth,
      scope: request.scope,
      ...(request.ownerXml === undefined ? {} : { ownerXml: request.ownerXml }),
      timeoutSeconds: request.timeoutSeconds,
      expiresAt: this.#now() + request.timeoutSeconds * 1000,
      collection: request.collection,
    };
    this.#locks.set(lock.token, lock);
    return lock;
  }

  /** Extends a lock's timeout. */
  refresh(lock: ActiveLock, timeoutSeconds: number): void {
    lock.timeoutSeconds = timeoutSeconds;
    lock.expiresAt = this.#now() + timeoutSeconds * 1000;
  }

  /** Ends the lock with `token`; false when there was none. */
  remove(token: string): boolean {
    return this.#locks.delete(token);
  }

  /** Ends every lock rooted at or below `path` (the resource was deleted or moved away). */
  removeTree(path: string): void {
    for (const lock of this.#live()) {
      if (isWithin(lock.root, path)) this.#locks.delete(lock.token);
    }
  }

  /**
   * The locks among `locks` that `submitted` does not satisfy. Locks are grouped by root: one
   * submitted token of a root satisfies the shared locks on it.
   */
  unsatisfied(locks: readonly ActiveLock[], submitted: ReadonlySet<string>): ActiveLock[] {
    const satisfiedRoots = new Set(
      locks.filter((lock) => submitted.has(lock.token)).map((lock) => lock.root),
    );
    return locks.filter((lock) => !satisfiedRoots.has(lock.root));
  }
}

/** The DAV:activelock element of a lock. */
export function activeLockXml(lock: ActiveLock): string {
  const timeout = Number.isFinite(lock.timeoutSeconds)
    ? `Second-${Math.max(0, Math.round(lock.timeoutSeconds))}`
    : "Infinite";
  return `<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:${lock.scope}/></D:lockscope>` +
    `<D:depth>${lock.depth}</D:depth>${lock.ownerXml ?? ""}<D:timeout>${timeout}</D:timeout>` +
    `<D:locktoken><D:href>${escapeXml(lock.token)}</D:href></D:locktoken>` +
    `<D:lockroot><D:href>${
      escapeXml(encodeDavPath(lock.root, lock.collection))
    }</D:href></D:lockroot></D:activelock>`;
}

/** The content of the lockdiscovery property for `locks`. */
export function lockDiscoveryXml(locks: readonly ActiveLock[]): string {
  return locks.map(activeLockXml).join("");
}
