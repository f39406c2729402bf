/**
 * The image view itself (see lib/view/image_view.ts for how it is opened): reads go to the WIM
 * (lib/view/wim_contents.ts) or, for new and changed contents, to the staging directory; changes
 * edit the tree (lib/view/view_tree.ts); commit appends the tree to the WIM in place.
 */

import type { ChunkPool } from "../codecs/chunk_pool.ts";
import { FileAttribute } from "../format/constants.ts";
import type { ContentSource, NewNode } from "../wim/new_image.ts";
import { readImageTree } from "../wim/image_source.ts";
import { appendToWim } from "../wim/writer.ts";
import type { Wim } from "../wim/wim.ts";
import type { CommitResult, ImageView, ViewEntry, ViewTimes } from "./types.ts";
import { joinViewPath, splitViewPath } from "./view_path.ts";
import { isDirectoryNode, kindOf, msToFiletime, nowFiletime, symlinkReparse } from "./node_info.ts";
import { cloneNode, compareNames, walkNodes } from "./tree_nodes.ts";
import { StagedContent, type StagingArea } from "./staging.ts";
import type { WimLock } from "./wim_lock.ts";
import { type IdCounter, viewError, ViewTree } from "./view_tree.ts";
import { type ImageViewStats, WimContents } from "./wim_contents.ts";

/** What {@linkcode WimImageView} starts from (built by `openImageView`). */
export interface ViewState {
  wim: Wim;
  index: number;
  tree: ViewTree;
  counter: IdCounter;
  pool: ChunkPool;
  ownsPool: boolean;
  lock: WimLock | undefined;
  staging: StagingArea | undefined;
  cacheBytes?: number;
}

/**
 * The {@linkcode ImageView} of one image.
 *
 * @example
 * ```ts ignore
 * const view = new WimImageView({ wim, index, tree, counter, pool, ownsPool, lock, staging });
 * ```
 */
export class WimImageView implements ImageView {
  readonly writable: boolean;
  readonly #contents: WimContents;
  #tree: ViewTree;
  readonly #state: ViewState;
  #nextInode = 1;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #copying = new Map<unknown, Promise<StagedContent>>();
  #busy: string | undefined;
  #disposed = false;

  constructor(state: ViewState) {
    this.#state = state;
    this.writable = state.staging !== undefined;
    this.#contents = new WimContents(state.wim, state.index, state.pool, state.cacheBytes);
    this.#tree = state.tree;
  }

  get dirty(): boolean {
    return this.#tree.dirty;
  }

  /** Read counters, across commits and discards. */
  get stats(): ImageViewStats {
    return this.#contents.stats;
  }

  stat(path: string): ViewEntry | undefined {
    const names = splitViewPath(path);
    const node = this.#tree.find(names);
    return node ? this.#tree.entry(node, names) : undefined;
  }

  list(path: string): ViewEntry[] {
    const names = splitViewPath(path);
    const dir = this.#tree.existing(names, path);
    if (!isDirectoryNode(dir)) throw viewError(path, "is not a directory", "not-directory");
    return [...dir.children ?? []].sort((a, b) => compareNames(a.name, b.name))
      .map((child) => this.#tree.entry(child, [...names, child.name]));
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const content = this.#fileNode(path).content;
    if (!content || offset >= content.size || length <= 0) return new Uint8Array(0);
    if (content instanceof StagedContent) {
      return await this.#state.staging!.read(content, offset, length);
    }
    return await this.#contents.read(content, path, offset, length);
  }

  stream(path: string, offset = 0, end?: number): ReadableStream<Uint8Array> {
    const content = this.#fileNode(path).content;
    const size = content?.size ?? 0;
    const stop = Math.min(end ?? size, size);
    if (!content || offset >= stop) return new Blob([]).stream() as ReadableStream<Uint8Array>;
    if (content instanceof StagedContent) return this.#state.staging!.stream(content, offset, stop);
    return this.#contents.stream(content, path, offset, stop);
  }

  writeFile(path: string, body: ReadableStream<Uint8Array> | Uint8Array): Promise<ViewEntry> {
    return this.#track(async () => {
      const names = this.#changeable(path);
      this.#tree.parentOf(names, path);
      const existing = this.#tree.find(names);
      if (existing && isDirectoryNode(existing)) {
        throw viewError(path, "is a directory", "is-directory");
      }
      const staged = await this.#state.staging!.fromBody(body);
      // The tree may have changed while the body arrived: look everything up again.
      const parent = this.#tree.parentOf(names, path);
      const node = this.#tree.child(parent, names.at(-1)!);
      if (node && isDirectoryNode(node)) throw viewError(path, "is a directory", "is-directory");
      if (node && kindOf(node) === "file") {
        this.#setContent(node, staged);
        this.#touch(node);
        return this.#tree.entry(node, names);
      }
      if (node) this.#tree.detach(parent, node);
      const created = this.#tree.attach(parent, newNode(names.at(-1)!, FileAttribute.NORMAL));
      created.content = staged;
      return this.#tree.entry(created, names);
    });
  }

  write(path: string, offset: number, data: Uint8Array): Promise<void> {
    checkOffset(offset);
    return this.#track(async () => {
      const names = this.#changeable(path);
      const node = this.#tree.find(names) ??
        this.#tree.attach(
          this.#tree.parentOf(names, path),
          newNode(names.at(-1)!, FileAttribute.NORMAL),
        );
      const staged = await this.#stage(this.#checkFile(node, path));
      await this.#state.staging!.writeAt(staged, offset, data);
      this.#touch(node);
    });
  }

  truncate(path: string, size: number): Promise<void> {
    checkOffset(size);
    return this.#track(async () => {
      const names = this.#changeable(path);
      const node = this.#checkFile(this.#tree.existing(names, path), path);
      if (size === 0 && !(node.content instanceof StagedContent && !node.content.shared)) {
        this.#setContent(node, await this.#state.staging!.fromBody(new Uint8Array(0)));
      } else if (size !== (node.content?.size ?? 0)) {
        await this.#state.staging!.truncate(await this.#stage(node), size);
      }
      this.#touch(node);
    });
  }

  mkdir(path: string): void {
    const names = this.#changeable(path);
    const parent = this.#tree.parentOf(names, path);
    if (this.#tree.child(parent, names.at(-1)!)) throw viewError(path, "exists already", "exists");
    const dir = newNode(names.at(-1)!, FileAttribute.DIRECTORY);
    dir.children = [];
    this.#tree.attach(parent, dir);
  }

  symlink(path: string, target: string): void {
    const names = this.#changeable(path);
    if (target === "" || target.includes("\0")) {
      throw viewError(path, "cannot link to an empty target or one with NUL", "invalid");
    }
    const parent = this.#tree.parentOf(names, path);
    if (this.#tree.child(parent, names.at(-1)!)) throw viewError(path, "exists already", "exists");
    const link = newNode(names.at(-1)!, FileAttribute.REPARSE_POINT);
    link.reparse = symlinkReparse(target);
    this.#tree.attach(parent, link);
  }

  remove(path: string, options: { recursive?: boolean } = {}): void {
    const names = this.#changeable(path);
    const parent = this.#tree.parentOf(names, path);
    const node = this.#tree.existing(names, path);
    if (isDirectoryNode(node) && node.children?.length && !options.recursive) {
      throw viewError(path, "is a directory that is not empty", "not-empty");
    }
    this.#tree.detach(parent, node);
  }

  move(from: string, to: string, options: { overwrite?: boolean } = {}): void {
    const source = this.#changeable(from);
    const target = this.#changeable(to);
    const sourceParent = this.#tree.parentOf(source, from);
    const node = this.#tree.existing(source, from);
    if (joinViewPath(source) === joinViewPath(target)) return;
    if (target.length > source.length && source.every((name, i) => target[i] === name)) {
      throw viewError(to, "is inside the directory being moved", "invalid");
    }
    const parent = this.#tree.parentOf(target, to);
    this.#makeRoom(parent, target, to, options.overwrite === true);
    this.#tree.detach(sourceParent, node, false);
    node.name = target.at(-1)!;
    this.#tree.attach(parent, node);
  }

  copy(from: string, to: string, options: { overwrite?: boolean; recursive?: boolean } = {}): void {
    const source = this.#changeable(from);
    const target = this.#changeable(to);
    const node = this.#tree.existing(source, from);
    if (joinViewPath(source) === joinViewPath(target)) {
      throw viewError(to, "is the source of the copy", "invalid");
    }
    if (target.length > source.length && source.every((name, i) => target[i] === name)) {
      throw viewError(to, "is inside the directory being copied", "invalid");
    }
    const parent = this.#tree.parentOf(target, to);
    this.#makeRoom(parent, target, to, options.overwrite === true);
    const copy = cloneNode(
      node,
      target.at(-1)!,
      (old) => `view-copy-${this.#nextInode++}:${old}`,
      options.recursive === false,
    );
    // Staged content is now shared: the next in-place edit of either copies it first.
    for (const each of walkNodes(copy)) {
      if (each.content instanceof StagedContent) each.content.shared = true;
    }
    this.#tree.attach(parent, copy);
  }

  setTimes(path: string, times: ViewTimes): void {
    const node = this.#tree.existing(this.#changeable(path), path);
    const exact = (filetime: bigint | undefined, ms: number | undefined) =>
      filetime ?? (ms === undefined ? undefined : msToFiletime(ms));
    const lastWrite = exact(times.filetimes?.lastWrite, times.lastWriteTime);
    const lastAccess = exact(times.filetimes?.lastAccess, times.lastAccessTime);
    for (const link of this.#tree.linksOf(node)) {
      if (lastWrite !== undefined) link.lastWriteTime = lastWrite;
      if (lastAccess !== undefined) link.lastAccessTime = lastAccess;
    }
    this.#tree.markChanged(node);
  }

  async commit(options: { newImage?: string } = {}): Promise<CommitResult> {
    if (!this.writable) throw viewError("/", "is in a read-only view", "read-only");
    return await this.#exclusive("committed", async () => {
      if (!this.#tree.dirty && options.newImage === undefined) {
        return { image: this.#contents.index, newBytes: 0 };
      }
      const { wim, index: current } = this.#contents;
      const path = wim.path;
      await this.#state.lock!.checkUnchanged(path);
      const info = wim.images()[current - 1]!;
      const sizeBefore = wim.fileSize;
      const image = this.#tree.image;
      const report = await appendToWim(path, [{
        root: image.root,
        name: options.newImage ?? info.name,
        securityDescriptors: image.securityDescriptors,
        ...(options.newImage === undefined
          ? { replaces: current, replacedReferences: image.references }
          : {}),
      }], { pool: this.#state.pool });
      await this.#state.lock!.remember(path);
      const index = report.addedImages[0] ?? current;
      await this.#reload(index);
      return { image: index, newBytes: Math.max(0, report.sizeBytes - sizeBefore) };
    });
  }

  async discard(): Promise<void> {
    if (!this.writable) return;
    await this.#exclusive("discarded", () => this.#reload(this.#contents.index));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.allSettled([...this.#pending]);
    await this.#state.staging?.[Symbol.asyncDispose]();
    this.#contents.close();
    this.#state.lock?.release();
    if (this.#state.ownsPool) this.#state.pool[Symbol.dispose]();
  }

  /** Runs `job` with changes refused, after the changes in flight. */
  async #exclusive<T>(what: string, job: () => Promise<T>): Promise<T> {
    if (this.#busy) throw viewError("/", `is being ${this.#busy}`, "read-only");
    this.#busy = what;
    try {
      await Promise.allSettled([...this.#pending]);
      return await job();
    } finally {
      this.#busy = undefined;
    }
  }

  /** Reads image `index` of the WIM again; entries keep their ids by path. */
  async #reload(index: number): Promise<void> {
    this.#tree = await this.#contents.reopen(
      index,
      async (wim) => new ViewTree(await readImageTree(wim, index), this.#state.counter, this.#tree),
    );
    await this.#state.staging?.clear();
  }

  #fileNode(path: string): NewNode {
    return this.#checkFile(this.#tree.existing(splitViewPath(path), path), path);
  }

  #checkFile(node: NewNode, path: string): NewNode {
    const kind = kindOf(node);
    if (kind === "directory") throw viewError(path, "is a directory", "is-directory");
    if (kind === "symlink") throw viewError(path, "is a symbolic link", "invalid");
    return node;
  }

  /** Checks the view takes changes and returns the path's names. */
  #changeable(path: string): string[] {
    const names = splitViewPath(path);
    const refusal = !this.writable
      ? "the view is read-only"
      : this.#disposed
      ? "the view is closed"
      : this.#busy
      ? `the image is being ${this.#busy}`
      : undefined;
    if (refusal) throw viewError(path, `cannot be changed: ${refusal}`, "read-only");
    return names;
  }

  #track<T>(job: () => Promise<T>): Promise<T> {
    const promise = job();
    this.#pending.add(promise);
    const done = () => this.#pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** The node's content in staging, copied there first unless already its own. */
  async #stage(node: NewNode): Promise<StagedContent> {
    const current = node.content;
    if (current instanceof StagedContent && !current.shared) return current;
    const key = node.inode ?? node;
    let copying = this.#copying.get(key);
    if (!copying) {
      copying = (async () => {
        const body = current ? this.#contentStream(current) : new Uint8Array(0);
        const staged = await this.#state.staging!.fromBody(body);
        this.#setContent(node, staged);
        return staged;
      })();
      this.#copying.set(key, copying);
      const done = () => this.#copying.delete(key);
      copying.then(done, done);
    }
    return await copying;
  }

  #contentStream(content: ContentSource): ReadableStream<Uint8Array> {
    if (content instanceof StagedContent) {
      return this.#state.staging!.stream(content, 0, content.size);
    }
    return this.#contents.streamAll(content);
  }

  /** Gives every name of the node's file the new content. */
  #setContent(node: NewNode, content: StagedContent): void {
    for (const link of this.#tree.linksOf(node)) link.content = content;
    this.#tree.markChanged(node);
  }

  #touch(node: NewNode): void {
    const now = nowFiletime();
    for (const link of this.#tree.linksOf(node)) link.lastWriteTime = now;
    this.#tree.markChanged(node);
  }

  /** Makes `target` free in `parent`: refuses, or (overwrite) removes what is there. */
  #makeRoom(parent: NewNode, target: readonly string[], path: string, overwrite: boolean): void {
    const existing = this.#tree.child(parent, target.at(-1)!);
    if (!existing) return;
    if (!overwrite) throw viewError(path, "exists already", "exists");
    this.#tree.detach(parent, existing);
  }
}

/** A new node with the current time. */
function newNode(name: string, attributes: number): NewNode {
  const now = nowFiletime();
  return { name, attributes, creationTime: now, lastAccessTime: now, lastWriteTime: now };
}

function checkOffset(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`invalid offset ${value}`);
}
