/**
 * Compares two directory trees the way wimlib's tree-cmp does: paths, types, contents, link
 * targets, hard-link groups and modification times (100 ns). Absolute link targets are compared
 * relative to each tree's root, since apply rebases them into the target.
 */

import { createHash } from "node:crypto";
import { getFileTimes } from "../../lib/fs/timestamps.ts";

interface Node {
  type: "file" | "dir" | "symlink" | "other";
  hash?: string;
  target?: string;
  mtime?: bigint;
  inode: number;
  nlink: number;
}

async function scan(root: string): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  const realRoot = await Deno.realPath(root);
  const stack = [""];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const path = rel === "" ? root : `${root}/${rel}`;
    const info = await Deno.lstat(path);
    const node: Node = {
      type: info.isDirectory ? "dir" : info.isFile ? "file" : info.isSymlink ? "symlink" : "other",
      inode: info.ino ?? 0,
      nlink: info.nlink ?? 1,
      mtime: getFileTimes(path).writeTime,
    };
    if (node.type === "file") {
      node.hash = createHash("sha1").update(await Deno.readFile(path)).digest("hex");
    }
    if (node.type === "symlink") {
      const target = await Deno.readLink(path);
      node.target = target.startsWith(realRoot) ? "<root>" + target.slice(realRoot.length) : target;
    }
    out.set(rel === "" ? "/" : `/${rel}`, node);
    if (node.type === "dir") {
      for await (const entry of Deno.readDir(path)) {
        stack.push(rel === "" ? entry.name : `${rel}/${entry.name}`);
      }
    }
  }
  return out;
}

/** What to compare. */
export interface CompareOptions {
  /** Compare mtimes (default true). */
  times?: boolean;
  /** Compare the root directory's own mtime (default true). */
  rootTime?: boolean;
  /** Compare symlinks' own mtimes (default true). */
  linkTimes?: boolean;
}

/**
 * Returns a list of differences between trees `a` and `b` (empty when they match).
 *
 * @example
 * ```ts ignore
 * assert.deepEqual(await compareTrees(applied, expected), []);
 * ```
 */
export async function compareTrees(
  a: string,
  b: string,
  options: CompareOptions = {},
): Promise<string[]> {
  const [left, right] = await Promise.all([scan(a), scan(b)]);
  const problems: string[] = [];
  for (const path of new Set([...left.keys(), ...right.keys()])) {
    const x = left.get(path);
    const y = right.get(path);
    if (!x || !y) {
      problems.push(`${path}: only in ${x ? a : b}`);
      continue;
    }
    if (x.type !== y.type) problems.push(`${path}: type ${x.type} vs ${y.type}`);
    else if (x.hash !== y.hash) problems.push(`${path}: contents differ`);
    else if (x.target !== y.target) {
      problems.push(`${path}: link target ${x.target} vs ${y.target}`);
    }
    const compareTime = options.times !== false && (path !== "/" || options.rootTime !== false) &&
      (x.type !== "symlink" || options.linkTimes !== false);
    if (compareTime && x.mtime !== y.mtime) {
      problems.push(`${path}: mtime ${x.mtime} vs ${y.mtime}`);
    }
  }
  problems.push(...compareLinkGroups(left, right));
  return problems;
}

/** Hard-link groups must partition the files the same way in both trees. */
function compareLinkGroups(left: Map<string, Node>, right: Map<string, Node>): string[] {
  const groups = (tree: Map<string, Node>) => {
    const byInode = new Map<number, string[]>();
    for (const [path, node] of tree) {
      if (node.type !== "file") continue;
      const list = byInode.get(node.inode) ?? [];
      list.push(path);
      byInode.set(node.inode, list);
    }
    return new Set(
      [...byInode.values()].filter((g) => g.length > 1).map((g) => g.sort().join("|")),
    );
  };
  const l = groups(left);
  const r = groups(right);
  const problems: string[] = [];
  for (const g of l) if (!r.has(g)) problems.push(`hard-link group ${g} only on the left`);
  for (const g of r) if (!l.has(g)) problems.push(`hard-link group ${g} only on the right`);
  return problems;
}
