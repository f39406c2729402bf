/**
 * The image tree as a view sees it: lookups that fail with {@linkcode ViewError}, stable ids (one
 * per hard-link group), link counts, which entries changed, and the edits that keep those in step
 * (attach, detach). Knows no WIM and no staging: image_view.ts brings those.
 */

import type { ImageTree } from "../wim/image_source.ts";
import type { NewNode } from "../wim/new_image.ts";
import { type ViewEntry, ViewError, type ViewErrorReason } from "./types.ts";
import {
  filetimeToMs,
  isDirectoryNode,
  kindOf,
  linkTargetOf,
  modeOf,
  nowFiletime,
} from "./node_info.ts";
import { StagedContent } from "./staging.ts";
import { DirectoryIndex, walkNodes, walkPaths } from "./tree_nodes.ts";
import { joinViewPath } from "./view_path.ts";

/** SHA-1 of zero bytes: the hash of every empty file. */
const EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

/** Where ids come from; shared by the trees a view shows one after another. */
export interface IdCounter {
  next: number;
}

/**
 * A ViewError for `path`: `"path" what`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viewError } from "./view_tree.ts";
 * assert.equal(viewError("/a", "exists already", "exists").message, '"/a" exists already');
 * ```
 */
export function viewError(path: string, what: string, reason: ViewErrorReason): ViewError {
  return new ViewError(`"${path}" ${what}`, reason, path);
}

/**
 * A mutable image tree with ids and change tracking.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ViewTree } from "./view_tree.ts";
 * const root = { name: "", attributes: 0x10, creationTime: 0n, lastAccessTime: 0n,
 *   lastWriteTime: 0n, children: [] };
 * const tree = new ViewTree({ root, securityDescriptors: [], references: [] }, { next: 1 });
 * assert.equal(tree.find([]), root);
 * ```
 */
export class ViewTree {
  /** The tree as read from the WIM (its root is edited in place). */
  readonly image: ImageTree;
  /** True once anything changed. */
  dirty = false;
  readonly #counter: IdCounter;
  readonly #dirs = new DirectoryIndex();
  readonly #ids = new WeakMap<NewNode, number>();
  readonly #inodeIds = new Map<string, number>();
  readonly #links = new Map<string, Set<NewNode>>();
  readonly #changed = new WeakSet<NewNode>();

  /** Wraps `image`; entries at paths `previous` also has keep their ids. */
  /** Where fixed absolute link targets are rebased (see {@linkcode linkTargetOf}). */
  readonly #linkRoot: string | undefined;

  constructor(
    image: ImageTree,
    counter: IdCounter,
    previous?: ViewTree,
    linkRoot: string | undefined = previous ? previous.#linkRoot : undefined,
  ) {
    this.image = image;
    this.#counter = counter;
    this.#linkRoot = linkRoot;
    for (const node of walkNodes(image.root)) {
      if (node.inode !== undefined) this.#linkSet(node.inode).add(node);
    }
    if (previous) this.#inheritIds(previous);
  }

  /** The root node. */
  get root(): NewNode {
    return this.image.root;
  }

  /** The node at `names`, if any. */
  find(names: readonly string[]): NewNode | undefined {
    return this.#dirs.find(this.image.root, names);
  }

  /** The child of `dir` named `name`. */
  child(dir: NewNode, name: string): NewNode | undefined {
    return this.#dirs.child(dir, name);
  }

  /**
   * The node at `names`.
   *
   * @throws {ViewError} "not-found" or "not-directory" (a parent is a file).
   */
  existing(names: readonly string[], path: string): NewNode {
    const node = this.find(names);
    if (node) return node;
    this.parentOf(names, path);
    throw viewError(path, "does not exist", "not-found");
  }

  /**
   * The directory that holds (or would hold) `names`.
   *
   * @throws {ViewError} "invalid" for the root, "not-found" or "not-directory" on the way.
   */
  parentOf(names: readonly string[], path: string): NewNode {
    if (names.length === 0) throw viewError(path, "is the root", "invalid");
    let dir = this.image.root;
    for (const name of names.slice(0, -1)) {
      const next = this.#dirs.child(dir, name);
      if (!next) throw viewError(path, `has no parent directory "${name}"`, "not-found");
      if (!isDirectoryNode(next)) {
        throw viewError(path, `is under a file "${name}"`, "not-directory");
      }
      dir = next;
    }
    return dir;
  }

  /** What stat() says about `node`, found at `names`. */
  entry(node: NewNode, names: readonly string[]): ViewEntry {
    const kind = kindOf(node);
    const linkTarget = kind === "symlink" ? linkTargetOf(node, this.#linkRoot) : undefined;
    const content = kind === "file" ? node.content : undefined;
    const mode = modeOf(node);
    // A hash only for content as stored in the WIM (a strong ETag); staged content has none yet.
    const hash = kind !== "file"
      ? undefined
      : !content || content.size === 0
      ? EMPTY_SHA1
      : content instanceof StagedContent
      ? undefined
      : content.knownHash;
    const size = kind === "file"
      ? content?.size ?? 0
      : linkTarget === undefined
      ? 0
      : new TextEncoder().encode(linkTarget).length;
    return {
      path: joinViewPath(names),
      name: names.at(-1) ?? "",
      kind,
      size,
      id: this.idOf(node),
      links: this.linkCount(node),
      creationTime: filetimeToMs(node.creationTime),
      lastWriteTime: filetimeToMs(node.lastWriteTime),
      lastAccessTime: filetimeToMs(node.lastAccessTime),
      filetimes: {
        creation: node.creationTime,
        lastWrite: node.lastWriteTime,
        lastAccess: node.lastAccessTime,
      },
      ...(mode === undefined ? {} : { mode }),
      ...(linkTarget === undefined ? {} : { linkTarget }),
      ...(hash === undefined ? {} : { hash }),
      changed: this.#changed.has(node),
    };
  }

  /** The id of `node`: stable while the view lives, shared by hard links. */
  idOf(node: NewNode): number {
    if (node.inode !== undefined) {
      let id = this.#inodeIds.get(node.inode);
      if (id === undefined) {
        id = this.#counter.next++;
        this.#inodeIds.set(node.inode, id);
      }
      return id;
    }
    let id = this.#ids.get(node);
    if (id === undefined) {
      id = this.#counter.next++;
      this.#ids.set(node, id);
    }
    return id;
  }

  /** Number of names of the node's file. */
  linkCount(node: NewNode): number {
    return node.inode === undefined ? 1 : this.#links.get(node.inode)?.size ?? 1;
  }

  /** Every name of the node's file (the node itself when not hard-linked). */
  linksOf(node: NewNode): Iterable<NewNode> {
    if (node.inode === undefined) return [node];
    const set = this.#links.get(node.inode);
    return set && set.has(node) ? set : [node];
  }

  /** True when the node was created or changed in this tree. */
  isChanged(node: NewNode): boolean {
    return this.#changed.has(node);
  }

  /** Marks the node (every name of its file) changed. */
  markChanged(node: NewNode): void {
    for (const link of this.linksOf(node)) this.#changed.add(link);
    this.dirty = true;
  }

  /** Adds `node` (and its subtree) to directory `parent`. */
  attach(parent: NewNode, node: NewNode): NewNode {
    (parent.children ??= []).push(node);
    this.#dirs.invalidate(parent);
    for (const each of walkNodes(node)) {
      if (each.inode !== undefined) this.#linkSet(each.inode).add(each);
    }
    this.#changed.add(node);
    parent.lastWriteTime = nowFiletime();
    this.dirty = true;
    return node;
  }

  /** Takes `node` out of `parent`; `unlink` false when it is being moved. */
  detach(parent: NewNode, node: NewNode, unlink = true): void {
    parent.children = (parent.children ?? []).filter((child) => child !== node);
    this.#dirs.invalidate(parent);
    if (unlink) {
      for (const each of walkNodes(node)) {
        if (each.inode !== undefined) this.#links.get(each.inode)?.delete(each);
      }
    }
    parent.lastWriteTime = nowFiletime();
    this.dirty = true;
  }

  #inheritIds(previous: ViewTree): void {
    const byPath = new Map<string, number>();
    for (const [node, names] of walkPaths(previous.root)) {
      byPath.set(joinViewPath(names), previous.idOf(node));
    }
    for (const [node, names] of walkPaths(this.root)) {
      const id = byPath.get(joinViewPath(names));
      if (id === undefined) continue;
      if (node.inode === undefined) this.#ids.set(node, id);
      else if (!this.#inodeIds.has(node.inode)) this.#inodeIds.set(node.inode, id);
    }
  }

  #linkSet(inode: string): Set<NewNode> {
    let set = this.#links.get(inode);
    if (!set) {
      set = new Set();
      this.#links.set(inode, set);
    }
    return set;
  }
}
