/**
 * Path selection for extract: a stand-in root whose children are the chosen dentries of an image,
 * so that an apply of it puts each chosen path in the target under its own name.
 */

import { WimkitError } from "../errors.ts";
import { type DentryNode, findDentry } from "../format/metadata.ts";

/**
 * A stand-in root whose children are the dentries at `paths` ("/"-separated); `root` itself when
 * a path names the root.
 *
 * @throws {WimkitError} If a path is not in the image, or two paths end in the same name.
 *
 * @example
 * ```ts ignore
 * const root = selectPaths(metadata.root, ["/Windows/System32"], "install.wim", 1);
 * ```
 */
export function selectPaths(
  root: DentryNode,
  paths: readonly string[],
  file: string,
  image: number,
): DentryNode {
  const children: DentryNode[] = [];
  for (const path of paths) {
    const node = findDentry(root, path);
    if (!node) {
      throw new WimkitError(
        `Cannot extract from image ${image} of "${file}": no "${path}" in the image`,
        "not-found",
        {
          file,
          image,
          path,
        },
      );
    }
    if (node === root) return root;
    if (children.some((c) => c.name === node.name)) {
      throw new WimkitError(
        `Cannot extract "${path}": another extracted path is also named "${node.name}"`,
        "usage",
        {
          file,
          image,
          path,
        },
      );
    }
    children.push(node);
  }
  return { ...root, children };
}
