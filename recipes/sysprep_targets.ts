/**
 * The targets of sysprep-check behind one small read-only tree interface: a directory on the host
 * (an offline Windows volume) or an image inside a WIM, read without extracting it; and the
 * parsing of a `WIMFILE[:IMAGE]` target.
 */

import { createHash } from "node:crypto";
import { WimkitError } from "../lib/errors.ts";
import { type DentryNode, dentryStreams, isDirectory } from "../lib/format/metadata.ts";
import type { Wim } from "../lib/wim/wim.ts";
import { isUrl } from "../lib/io/open_source.ts";

export async function isDirectoryPath(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function isFilePath(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** `PATH` if it is a file, else `PATH:IMAGE` split at the last colon with PATH a file. */
export async function splitWimTarget(target: string): Promise<{ path: string; spec?: string }> {
  if (isUrl(target)) {
    // A URL names no local file to test: an IMAGE suffix is a colon after the last slash.
    const colon = target.lastIndexOf(":");
    return colon > target.lastIndexOf("/") && colon < target.length - 1
      ? { path: target.slice(0, colon), spec: target.slice(colon + 1) }
      : { path: target };
  }
  if (await isFilePath(target)) return { path: target };
  const colon = target.lastIndexOf(":");
  if (colon > 0) {
    const path = target.slice(0, colon);
    const spec = target.slice(colon + 1);
    if (spec !== "" && await isFilePath(path)) return { path, spec };
  }
  throw new WimkitError(
    `"${target}" is neither a directory nor a WIM file (WIMFILE or WIMFILE:IMAGE)`,
    "not-found",
    { file: target },
  );
}

/** A file or directory of the tree being checked. */
export interface TreeNode {
  /** Its name as stored. */
  readonly name: string;
  /** "/"-separated path from the tree's root, as stored. */
  readonly path: string;
  readonly directory: boolean;
}

/** Read access to a directory tree or an image. */
export abstract class Tree {
  abstract readonly root: TreeNode;
  abstract children(directory: TreeNode): Promise<TreeNode[]>;
  /** Reads a whole file; throws if it is larger than `maxBytes` or cannot be read. */
  abstract read(file: TreeNode, maxBytes: number): Promise<Uint8Array>;

  /**
   * Follows `parts` from `base`, each matched case-insensitively (an exact match tried first);
   * when a case-sensitive host has several matches ("System32" and "system32"), each is tried.
   */
  async resolve(base: TreeNode, parts: readonly string[]): Promise<TreeNode | undefined> {
    const [part, ...rest] = parts;
    if (part === undefined) return base;
    if (!base.directory) return undefined;
    const upper = part.toUpperCase();
    const matches = (await this.children(base))
      .filter((child) => child.name.toUpperCase() === upper)
      .sort((a, b) => Number(b.name === part) - Number(a.name === part));
    for (const match of matches) {
      const found = await this.resolve(match, rest);
      if (found) return found;
    }
    return undefined;
  }
}

/** A directory on the host, its names as the host stores them. */
export class DirectoryTree extends Tree {
  readonly root: TreeNode = { name: "", path: "", directory: true };
  readonly #base: string;

  constructor(base: string) {
    super();
    this.#base = base;
  }

  async children(directory: TreeNode): Promise<TreeNode[]> {
    const out: TreeNode[] = [];
    try {
      for await (const entry of Deno.readDir(this.#host(directory))) {
        const path = directory.path === "" ? entry.name : `${directory.path}/${entry.name}`;
        let isDir = entry.isDirectory;
        if (entry.isSymlink) {
          isDir = await isDirectoryPath(`${this.#base}/${path}`);
        }
        out.push({ name: entry.name, path, directory: isDir });
      }
    } catch {
      // an unreadable directory has no usable children
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async read(file: TreeNode, maxBytes: number): Promise<Uint8Array> {
    const path = this.#host(file);
    const info = await Deno.stat(path);
    if (info.size > maxBytes) {
      throw new Error(`${file.path} is ${info.size} bytes, over ${maxBytes}`);
    }
    return await Deno.readFile(path);
  }

  #host(node: TreeNode): string {
    return node.path === "" ? this.#base : `${this.#base}/${node.path}`;
  }
}

interface WimTreeNode extends TreeNode {
  readonly dentry: DentryNode;
}

/** An image in a WIM; file contents are read from their blobs and SHA-1 checked. */
export class WimTree extends Tree {
  readonly root: WimTreeNode;
  readonly #wim: Wim;

  constructor(wim: Wim, root: DentryNode) {
    super();
    this.#wim = wim;
    this.root = { name: "", path: "", directory: true, dentry: root };
  }

  children(directory: TreeNode): Promise<TreeNode[]> {
    const parent = directory as WimTreeNode;
    return Promise.resolve(parent.dentry.children.map((dentry): WimTreeNode => ({
      name: dentry.name,
      path: parent.path === "" ? dentry.name : `${parent.path}/${dentry.name}`,
      directory: isDirectory(dentry),
      dentry,
    })));
  }

  async read(file: TreeNode, maxBytes: number): Promise<Uint8Array> {
    const hash = dentryStreams((file as WimTreeNode).dentry).data;
    if (!hash) return new Uint8Array(0);
    const blob = this.#wim.blob(hash);
    if (!blob) {
      throw new Error(`the data of ${file.path} is not in the WIM (a split WIM without --ref?)`);
    }
    if (blob.size > maxBytes) {
      throw new Error(`${file.path} is ${blob.size} bytes, over ${maxBytes}`);
    }
    const bytes = await this.#wim.readBlob(blob);
    if (createHash("sha1").update(bytes).digest("hex") !== blob.hashHex) {
      throw new Error(`the data of ${file.path} does not match its SHA-1`);
    }
    return bytes;
  }
}
