/**
 * The inode table of a FUSE session: FUSE node ids ↔ image paths, with the kernel's lookup
 * counts. Each path the kernel has looked up gets one node id (hard links get one per name and
 * share their `st_ino`, the view's entry id). A node lives until the kernel forgets every
 * lookup; renames move the paths of a node and its descendants; a removed path leaves its
 * node orphaned (operations on it answer ENOENT) until forgotten.
 */

import { ROOT_NODE_ID } from "./protocol.ts";

interface Node {
  path: string | null;
  lookups: bigint;
}

/** Node ids handed to the kernel, keyed both ways. */
export class NodeTable {
  readonly #nodes = new Map<bigint, Node>([[ROOT_NODE_ID, { path: "/", lookups: 1n }]]);
  readonly #byPath = new Map<string, bigint>([["/", ROOT_NODE_ID]]);
  #nextId = ROOT_NODE_ID + 1n;

  /**
   * The image path of node `nodeId`, or undefined when unknown or removed.
   *
   * @example
   * ```ts
   * import { NodeTable } from "./nodes.ts";
   * import assert from "node:assert/strict";
   * const nodes = new NodeTable();
   * const id = nodes.lookup("/a/b");
   * nodes.rename("/a", "/c");
   * assert.ok(nodes.path(id) === "/c/b" && nodes.path(1n) === "/");
   * ```
   */
  path(nodeId: bigint): string | undefined {
    return this.#nodes.get(nodeId)?.path ?? undefined;
  }

  /** Counts one kernel lookup of `path` and returns its node id (new or existing). */
  lookup(path: string): bigint {
    const existing = this.#byPath.get(path);
    if (existing !== undefined) {
      const node = this.#nodes.get(existing)!;
      node.lookups++;
      return existing;
    }
    const id = this.#nextId++;
    this.#nodes.set(id, { path, lookups: 1n });
    this.#byPath.set(path, id);
    return id;
  }

  /** The kernel dropped `count` lookups of `nodeId`; the node goes away at zero. */
  forget(nodeId: bigint, count: bigint): void {
    if (nodeId === ROOT_NODE_ID) return;
    const node = this.#nodes.get(nodeId);
    if (!node) return;
    node.lookups -= count;
    if (node.lookups > 0n) return;
    this.#nodes.delete(nodeId);
    if (node.path !== null && this.#byPath.get(node.path) === nodeId) {
      this.#byPath.delete(node.path);
    }
  }

  /** `path` (and everything below it) no longer exists in the view. */
  removed(path: string): void {
    for (const [nodePath, id] of this.#descendants(path)) {
      this.#byPath.delete(nodePath);
      const node = this.#nodes.get(id);
      if (node) node.path = null;
    }
  }

  /** `from` was moved to `to` (replacing whatever was there). */
  rename(from: string, to: string): void {
    this.removed(to);
    const moved = this.#descendants(from);
    for (const [nodePath] of moved) this.#byPath.delete(nodePath);
    for (const [nodePath, id] of moved) {
      const newPath = to + nodePath.slice(from.length);
      const node = this.#nodes.get(id);
      if (node) node.path = newPath;
      this.#byPath.set(newPath, id);
    }
  }

  /** Number of live nodes (the root included). */
  get size(): number {
    return this.#nodes.size;
  }

  #descendants(path: string): [string, bigint][] {
    const prefix = path === "/" ? "/" : path + "/";
    const out: [string, bigint][] = [];
    for (const [nodePath, id] of this.#byPath) {
      if (nodePath === path || nodePath.startsWith(prefix)) out.push([nodePath, id]);
    }
    return out;
  }
}

/** Joins a directory path and a name into an image path. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}
