/**
 * Lookups and edits on a mutable image tree ({@linkcode NewNode}) for the image view: name
 * lookups through a per-directory index, walks, and deep copies that share contents.
 */

import type { NewNode } from "../wim/new_image.ts";
import { isDirectoryNode } from "./node_info.ts";

/** Children by name, built on first lookup and dropped when the directory changes. */
export class DirectoryIndex {
  readonly #byDir = new WeakMap<NewNode, Map<string, NewNode>>();

  /** The child of `dir` named `name`. */
  child(dir: NewNode, name: string): NewNode | undefined {
    let map = this.#byDir.get(dir);
    if (!map) {
      map = new Map();
      for (const child of dir.children ?? []) if (!map.has(child.name)) map.set(child.name, child);
      this.#byDir.set(dir, map);
    }
    return map.get(name);
  }

  /** Forgets the index of `dir` (call after changing its children). */
  invalidate(dir: NewNode): void {
    this.#byDir.delete(dir);
  }

  /** Follows `names` from `root`; undefined when a name is missing or not a directory. */
  find(root: NewNode, names: readonly string[]): NewNode | undefined {
    let node: NewNode | undefined = root;
    for (const name of names) {
      if (!node || !isDirectoryNode(node)) return undefined;
      node = this.child(node, name);
    }
    return node;
  }
}

/** Every node of the tree under `root` (root included), depth first, iteratively. */
export function* walkNodes(root: NewNode): Generator<NewNode> {
  const stack = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    yield node;
    if (node.children) {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
  }
}

/** Every node with its path names, depth first. */
export function* walkPaths(root: NewNode): Generator<[NewNode, string[]]> {
  const stack: [NewNode, string[]][] = [[root, []]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    yield item;
    const [node, names] = item;
    for (const child of node.children ?? []) stack.push([child, [...names, child.name]]);
  }
}

/**
 * A deep copy of `node` named `name`, sharing contents (no byte is copied); hard links inside the
 * copy stay linked to each other under new inode keys made by `newInode`. With `shallow`, a
 * directory is copied without its children.
 */
export function cloneNode(
  node: NewNode,
  name: string,
  newInode: (old: string) => string,
  shallow = false,
): NewNode {
  const inodes = new Map<string, string>();
  const clone = (source: NewNode, depth: number): NewNode => {
    const copy: NewNode = { ...source };
    if (source.inode !== undefined) {
      let inode = inodes.get(source.inode);
      if (inode === undefined) {
        inode = newInode(source.inode);
        inodes.set(source.inode, inode);
      }
      copy.inode = inode;
    }
    if (source.namedStreams) copy.namedStreams = source.namedStreams.map((s) => ({ ...s }));
    if (source.children) {
      copy.children = shallow && depth === 0 ? [] : source.children.map((c) => clone(c, depth + 1));
    }
    return copy;
  };
  const root = clone(node, 0);
  root.name = name;
  return root;
}

/**
 * Compares names as the view lists them: by UTF-16 code units, as WIM sorts them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareNames } from "./tree_nodes.ts";
 * assert.ok(["b", "B", "a"].sort(compareNames).join("") === "Bab");
 * ```
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
