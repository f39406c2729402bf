/**
 * Several images as one read-only tree: each image is a top-level folder (`serve WIMFILE all`).
 * Paths below a folder go to that image's view; the root is a synthetic directory.
 */

import { type CommitResult, type ImageView, type ViewEntry, ViewError } from "../view/types.ts";

/** One image of a combined view: its folder name and its view. */
export interface NamedImageView {
  readonly name: string;
  readonly view: ImageView;
}

/**
 * Folder names for images: the image name when it is usable and unique, else "N" or "N NAME".
 *
 * @param images Image names in index order (index = position + 1).
 *
 * @example
 * ```ts
 * import { imageFolderNames } from "./multi_image_view.ts";
 * import assert from "node:assert/strict";
 * assert.ok(imageFolderNames(["Base", "", "Base", "a/b"]).join("|") === "Base|2|3 Base|4");
 * ```
 */
export function imageFolderNames(images: readonly string[]): string[] {
  const seen = new Set<string>();
  return images.map((name, i) => {
    const index = String(i + 1);
    const usable = name.trim() !== "" && !/[/\\\0]/.test(name) && name !== "." && name !== "..";
    const folder = !usable
      ? index
      : seen.has(name) || /^\d+$/.test(name)
      ? `${index} ${name}`
      : name;
    seen.add(folder);
    return folder;
  });
}

/**
 * Combines read-only views into one, each under a top-level folder.
 *
 * @example
 * ```ts ignore
 * const view = combineImageViews([{ name: "Base", view: base }, { name: "Pro", view: pro }]);
 * console.assert(view.list("/").length === 2);
 * ```
 */
export function combineImageViews(images: readonly NamedImageView[]): ImageView {
  return new MultiImageView(images);
}

class MultiImageView implements ImageView {
  readonly writable = false;
  readonly dirty = false;
  readonly #images: Map<string, ImageView>;
  readonly #created = Date.now();

  constructor(images: readonly NamedImageView[]) {
    this.#images = new Map(images.map((image) => [image.name, image.view]));
  }

  #route(path: string): { view: ImageView; folder: string; inner: string } | undefined {
    const [, folder = "", ...rest] = path.split("/");
    const view = this.#images.get(folder);
    return view ? { view, folder, inner: "/" + rest.join("/") } : undefined;
  }

  #require(path: string): { view: ImageView; folder: string; inner: string } {
    const route = this.#route(path);
    if (!route) throw new ViewError(`"${path}" does not exist`, "not-found", path);
    return route;
  }

  #outer(entry: ViewEntry, folder: string): ViewEntry {
    const path = entry.path === "/" ? `/${folder}` : `/${folder}${entry.path}`;
    return { ...entry, path, name: entry.path === "/" ? folder : entry.name };
  }

  #root(): ViewEntry {
    return {
      path: "/",
      name: "",
      kind: "directory",
      size: 0,
      id: 0,
      links: 1,
      creationTime: this.#created,
      lastWriteTime: this.#created,
      lastAccessTime: this.#created,
      changed: false,
    };
  }

  stat(path: string): ViewEntry | undefined {
    if (path === "/") return this.#root();
    const route = this.#route(path);
    const entry = route?.view.stat(route.inner);
    return route && entry ? this.#outer(entry, route.folder) : undefined;
  }

  list(path: string): ViewEntry[] {
    if (path === "/") {
      return [...this.#images].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .flatMap(([folder, view]) => {
          const root = view.stat("/");
          return root ? [this.#outer(root, folder)] : [];
        });
    }
    const route = this.#require(path);
    return route.view.list(route.inner).map((entry) => this.#outer(entry, route.folder));
  }

  read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const route = this.#require(path);
    return route.view.read(route.inner, offset, length);
  }

  stream(path: string, offset?: number, end?: number): ReadableStream<Uint8Array> {
    const route = this.#require(path);
    return route.view.stream(route.inner, offset, end);
  }

  #readOnly(path: string): never {
    throw new ViewError(
      `"${path}" cannot be changed: every image is served read-only`,
      "read-only",
      path,
    );
  }

  writeFile(path: string): Promise<ViewEntry> {
    return Promise.reject(new ViewError(`"${path}" cannot be changed`, "read-only", path));
  }
  write(path: string): Promise<void> {
    return Promise.reject(new ViewError(`"${path}" cannot be changed`, "read-only", path));
  }
  truncate(path: string): Promise<void> {
    return Promise.reject(new ViewError(`"${path}" cannot be changed`, "read-only", path));
  }
  mkdir(path: string): void {
    this.#readOnly(path);
  }
  symlink(path: string): void {
    this.#readOnly(path);
  }
  remove(path: string): void {
    this.#readOnly(path);
  }
  move(from: string): void {
    this.#readOnly(from);
  }
  copy(from: string): void {
    this.#readOnly(from);
  }
  setTimes(path: string): void {
    this.#readOnly(path);
  }
  commit(): Promise<CommitResult> {
    return Promise.reject(new ViewError("every image is served read-only", "read-only", "/"));
  }
  discard(): Promise<void> {
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const view of this.#images.values()) await view[Symbol.asyncDispose]();
  }
}
