/**
 * Changes an image without extracting it, with wimlib's `wimupdate` commands: `add SOURCE DEST`,
 * `delete [--force] [--recursive] PATH` and `rename OLD NEW`. The image is read back as a tree
 * whose unchanged files still point at their blobs, the commands edit the tree, and the WIM is
 * written in place: only new content is compressed, the other images are untouched.
 */

import { WimkitError } from "../errors.ts";
import { FileAttribute } from "../format/constants.ts";
import type { OperationOptions } from "../progress.ts";
import type { NewNode } from "../wim/new_image.ts";
import { readImageTree } from "../wim/image_source.ts";
import { appendToWim, type WriteOptions, type WriteReport } from "../wim/writer.ts";
import { Wim } from "../wim/wim.ts";
import { type ScanOptions, scanTree } from "./scan.ts";

/** One update command. */
export type UpdateCommand =
  | { readonly type: "add"; readonly source: string; readonly destination: string }
  | {
    readonly type: "delete";
    readonly path: string;
    readonly force: boolean;
    readonly recursive: boolean;
  }
  | { readonly type: "rename"; readonly from: string; readonly to: string };

/**
 * Parses update commands, one per line; `#` starts a comment; arguments may be double-quoted.
 *
 * @throws {WimkitError} With code "usage" on an unknown command or wrong arguments.
 *
 * @example
 * ```ts
 * import { parseUpdateCommands } from "./update.ts";
 * import assert from "node:assert/strict";
 * const [command] = parseUpdateCommands('add "drivers dir" /Windows/INF\n');
 * assert.ok(command?.type === "add");
 * ```
 */
export function parseUpdateCommands(text: string): UpdateCommand[] {
  const commands: UpdateCommand[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const words = splitWords(raw);
    if (words.length === 0 || words[0]!.startsWith("#")) continue;
    const [verb, ...rest] = words;
    const flags = rest.filter((w) => w.startsWith("--"));
    const args = rest.filter((w) => !w.startsWith("--"));
    const fail = (why: string) =>
      new WimkitError(`Cannot read update command on line ${n + 1}: ${why}`, "usage");
    if (verb === "add" && args.length === 2) {
      commands.push({ type: "add", source: args[0]!, destination: args[1]! });
    } else if (verb === "delete" && args.length === 1) {
      const unknown = flags.find((f) => f !== "--force" && f !== "--recursive");
      if (unknown) throw fail(`unknown option ${unknown}`);
      commands.push({
        type: "delete",
        path: args[0]!,
        force: flags.includes("--force"),
        recursive: flags.includes("--recursive"),
      });
    } else if (verb === "rename" && args.length === 2) {
      commands.push({ type: "rename", from: args[0]!, to: args[1]! });
    } else {
      throw fail(
        `expected "add SOURCE DEST", "delete [--force] [--recursive] PATH" or "rename OLD NEW", got "${raw.trim()}"`,
      );
    }
  }
  return commands;
}

function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|(\S+)/g)) words.push(match[1] ?? match[2]!);
  return words;
}

/** Options for {@linkcode updateImage}. */
export interface UpdateOptions extends WriteOptions, OperationOptions {
  /** Options for scanning added sources. */
  scan?: ScanOptions;
}

/**
 * Applies `commands` to image `index` (1-based) of the WIM at `path`, in place.
 *
 * @throws {WimkitError} If a path is missing (without --force), a directory is deleted without
 *   --recursive, or a name is taken.
 *
 * @example
 * ```ts ignore
 * await updateImage("install.wim", 1, parseUpdateCommands("add unattend.xml /Windows/Panther/unattend.xml"));
 * ```
 */
export async function updateImage(
  path: string,
  index: number,
  commands: readonly UpdateCommand[],
  options: UpdateOptions = {},
): Promise<WriteReport> {
  await using wim = await Wim.open(path);
  wim.resolveImage(index);
  const tree = await readImageTree(wim, index);
  const fail = (message: string, at?: string) =>
    new WimkitError(`Cannot update image ${index} of "${path}": ${message}`, "usage", {
      file: path,
      image: index,
      ...(at === undefined ? {} : { path: at }),
    });
  for (const command of commands) {
    if (command.type === "add") {
      await addSource(tree.root, command.source, command.destination, options.scan ?? {}, fail);
    } else if (command.type === "delete") {
      const found = locate(tree.root, command.path);
      if (!found || !found.node) {
        if (command.force) continue;
        throw fail(`no "${command.path}" in the image`, command.path);
      }
      if (!found.parent) throw fail("the root cannot be deleted", command.path);
      if (isDirectoryNode(found.node) && found.node.children?.length && !command.recursive) {
        throw fail(
          `"${command.path}" is a directory that is not empty; use delete --recursive`,
          command.path,
        );
      }
      found.parent.children = found.parent.children!.filter((c) => c !== found.node);
    } else {
      const from = locate(tree.root, command.from);
      if (!from?.node || !from.parent) {
        throw fail(`no "${command.from}" in the image`, command.from);
      }
      const to = locate(tree.root, command.to);
      if (!to?.parent) throw fail(`the directory of "${command.to}" does not exist`, command.to);
      if (to.node) throw fail(`"${command.to}" exists already`, command.to);
      from.parent.children = from.parent.children!.filter((c) => c !== from.node);
      from.node.name = to.name;
      to.parent.children!.push(from.node);
    }
  }
  const info = wim.images()[index - 1]!;
  return await appendToWim(path, [{
    root: tree.root,
    name: info.name,
    securityDescriptors: tree.securityDescriptors,
    replaces: index,
    replacedReferences: tree.references,
  }], options);
}

function isDirectoryNode(node: NewNode): boolean {
  return (node.attributes & FileAttribute.DIRECTORY) !== 0 &&
    (node.attributes & FileAttribute.REPARSE_POINT) === 0;
}

function components(path: string): string[] {
  return path.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
}

/** Finds a path's parent and node (node undefined when only the parent exists). */
function locate(
  root: NewNode,
  path: string,
): { parent: NewNode | null; node: NewNode | undefined; name: string } | undefined {
  const parts = components(path);
  if (parts.some((p) => p === "..")) return undefined;
  if (parts.length === 0) return { parent: null, node: root, name: "" };
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    const next = dir.children?.find((c) => c.name === part);
    if (!next || !isDirectoryNode(next)) return undefined;
    dir = next;
  }
  const name = parts.at(-1)!;
  return { parent: dir, node: dir.children?.find((c) => c.name === name), name };
}

/** Makes the directories of `parts` under `root` exist; returns the last. */
function ensureDirectories(root: NewNode, parts: string[], template: NewNode): NewNode {
  let dir = root;
  for (const part of parts) {
    let next = dir.children?.find((c) => c.name === part);
    if (!next) {
      next = { ...template, name: part, children: [] };
      delete next.content;
      (dir.children ??= []).push(next);
    }
    if (!isDirectoryNode(next)) {
      throw new WimkitError(`"${part}" is not a directory in the image`, "usage");
    }
    dir = next;
  }
  return dir;
}

/** Merges `overlay` into directory `dir`: files replace, directories merge. */
function merge(dir: NewNode, overlay: NewNode): void {
  for (const child of overlay.children ?? []) {
    const existing = dir.children?.find((c) => c.name === child.name);
    if (existing && isDirectoryNode(existing) && isDirectoryNode(child)) {
      merge(existing, child);
      continue;
    }
    dir.children = (dir.children ?? []).filter((c) => c !== existing);
    dir.children.push(child);
  }
}

async function addSource(
  root: NewNode,
  source: string,
  destination: string,
  scan: ScanOptions,
  fail: (message: string, at?: string) => Error,
): Promise<void> {
  const info = await Deno.lstat(source).catch(() => null);
  if (!info) throw fail(`cannot add "${source}": no such file or directory`);
  const parts = components(destination);
  if (parts.includes("..")) {
    throw fail(`"${destination}" is not a path inside the image`, destination);
  }
  if (info.isDirectory) {
    const scanned = await scanTree(source, scan);
    const dir = ensureDirectories(root, parts, scanned.root);
    merge(dir, scanned.root);
    return;
  }
  // A single file (or link): scan its directory and take just that entry.
  const slash = source.lastIndexOf("/");
  const parentDir = slash > 0 ? source.slice(0, slash) : slash === 0 ? "/" : ".";
  const name = source.slice(slash + 1);
  const scanned = await scanTree(parentDir, {
    ...scan,
    config: { exclude: [/.*/], exceptions: [new RegExp(`^/${escape(name)}$`)], noCompress: [] },
  });
  const node = scanned.root.children?.find((c) => c.name === name);
  if (!node) throw fail(`cannot add "${source}"`);
  const target = locate(root, destination);
  if (target?.node && isDirectoryNode(target.node)) {
    merge(target.node, { ...scanned.root, children: [node] });
    return;
  }
  if (parts.length === 0) {
    throw fail(`cannot replace the root with the file "${source}"`, destination);
  }
  const dir = ensureDirectories(root, parts.slice(0, -1), scanned.root);
  node.name = parts.at(-1)!;
  merge(dir, { ...scanned.root, children: [node] });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
