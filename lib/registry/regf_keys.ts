/**
 * Registry key records: key nodes (nk), subkey indexes (li, lf, lh, ri) and key security (sk).
 *
 * A key node points to a subkey index, a value list and a key security record. A subkey index is
 * a leaf (li: cell offsets; lf and lh: offsets with a name hint or hash) or an index root (ri)
 * whose elements are leaves; an index root never points to another index root, and Windows keeps
 * the subkeys sorted by upper-case name. Reference: "Windows registry file format specification"
 * (M. Suhanov), section "Cell", and the libregf format documentation.
 */

import { hex, REGF_NO_CELL, type RegfCells } from "./regf_cells.ts";
import { decodeLatin1, decodeUtf16le, viewOf } from "./regf_text.ts";

/** nk +0x02: flags. */
const NK_FLAGS = 0x02;
/** nk +0x04: last written time (FILETIME). */
const NK_LAST_WRITTEN = 0x04;
/** nk +0x10: parent key node offset. */
const NK_PARENT = 0x10;
/** nk +0x14: number of (stable) subkeys. */
const NK_SUBKEY_COUNT = 0x14;
/** nk +0x1C: subkey index offset. */
const NK_SUBKEY_LIST = 0x1c;
/** nk +0x24: number of values. */
const NK_VALUE_COUNT = 0x24;
/** nk +0x28: value list offset. */
const NK_VALUE_LIST = 0x28;
/** nk +0x2C: key security (sk) offset. */
const NK_SECURITY = 0x2c;
/** nk +0x48: key name length in bytes. */
const NK_NAME_LENGTH = 0x48;
/** nk +0x4C: key name (Latin-1 when compressed, else UTF-16LE). */
const NK_NAME = 0x4c;
/** nk flag: the name is stored one byte per character. */
const KEY_COMP_NAME = 0x0020;

/** li/lf/lh/ri +0x02: number of elements. */
const INDEX_COUNT = 0x02;
/** li/lf/lh/ri +0x04: the elements. */
const INDEX_ELEMENTS = 0x04;

/** sk +0x10: security descriptor size in bytes. */
const SK_DESCRIPTOR_SIZE = 0x10;
/** sk +0x14: the self-relative security descriptor. */
const SK_DESCRIPTOR = 0x14;

/** A decoded key node (nk). */
export interface KeyNode {
  /** Cell offset of this node. */
  readonly offset: number;
  /** The key name as stored. */
  readonly name: string;
  /** nk flags. */
  readonly flags: number;
  /** Last written time (FILETIME). */
  readonly lastWritten: bigint;
  /** Cell offset of the parent node. */
  readonly parentOffset: number;
  /** Number of subkeys. */
  readonly subkeyCount: number;
  /** Cell offset of the subkey index. */
  readonly subkeyListOffset: number;
  /** Number of values. */
  readonly valueCount: number;
  /** Cell offset of the value list. */
  readonly valueListOffset: number;
  /** Cell offset of the key security record. */
  readonly securityOffset: number;
}

/**
 * Decodes the key node at `offset`.
 *
 * @param what The key's description for messages, such as `key "Setup"`.
 * @throws {WimFormatError} If the cell is not a valid nk record.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { parseKeyNode } from "./regf_keys.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * assert.ok(parseKeyNode(cells, cells.rootOffset, "root key").subkeyCount > 0);
 * ```
 */
export function parseKeyNode(cells: RegfCells, offset: number, what: string): KeyNode {
  const data = cells.cell(offset, what);
  if (cells.ascii2(data) !== "nk" || data.length < NK_NAME) {
    cells.fail(`${what} is not a key node (offset 0x${hex(offset)})`);
  }
  const view = viewOf(data);
  const flags = view.getUint16(NK_FLAGS, true);
  const nameLength = view.getUint16(NK_NAME_LENGTH, true);
  if (NK_NAME + nameLength > data.length) {
    cells.fail(`name of ${what} runs past its cell (offset 0x${hex(offset)})`);
  }
  const nameBytes = data.subarray(NK_NAME, NK_NAME + nameLength);
  return {
    offset,
    name: (flags & KEY_COMP_NAME) !== 0 ? decodeLatin1(nameBytes) : decodeUtf16le(nameBytes),
    flags,
    lastWritten: view.getBigUint64(NK_LAST_WRITTEN, true),
    parentOffset: view.getUint32(NK_PARENT, true),
    subkeyCount: view.getUint32(NK_SUBKEY_COUNT, true),
    subkeyListOffset: view.getUint32(NK_SUBKEY_LIST, true),
    valueCount: view.getUint32(NK_VALUE_COUNT, true),
    valueListOffset: view.getUint32(NK_VALUE_LIST, true),
    securityOffset: view.getUint32(NK_SECURITY, true),
  };
}

/**
 * Lists the cell offsets of a key's subkeys in index order, through an index root if there is one.
 *
 * Bounded: an index root may only point to leaves, each at most once, and the total must equal
 * the key's subkey count.
 *
 * @param what The key's description for messages.
 * @throws {WimFormatError} If an index is invalid, nested, repeated or disagrees with the count.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { parseKeyNode, readSubkeyOffsets } from "./regf_keys.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * const root = parseKeyNode(cells, cells.rootOffset, "root key");
 * assert.ok(readSubkeyOffsets(cells, root, "root key").length === root.subkeyCount);
 * ```
 */
export function readSubkeyOffsets(cells: RegfCells, node: KeyNode, what: string): number[] {
  if (node.subkeyCount === 0) return [];
  const out: number[] = [];
  const listWhat = `subkey index of ${what}`;
  const list = cells.cell(node.subkeyListOffset, listWhat);
  if (cells.ascii2(list) === "ri") {
    const leaves = readIndexElements(cells, list, 4, listWhat, node.subkeyListOffset);
    const seen = new Set<number>();
    for (const leafOffset of leaves) {
      if (seen.has(leafOffset)) {
        cells.fail(`${listWhat} lists the leaf at offset 0x${hex(leafOffset)} twice`);
      }
      seen.add(leafOffset);
      const leaf = cells.cell(leafOffset, listWhat);
      if (cells.ascii2(leaf) === "ri") {
        cells.fail(
          `${listWhat} nests an index root in an index root (offset 0x${hex(leafOffset)})`,
        );
      }
      appendLeaf(cells, leaf, listWhat, leafOffset, out, node.subkeyCount);
    }
  } else {
    appendLeaf(cells, list, listWhat, node.subkeyListOffset, out, node.subkeyCount);
  }
  if (out.length !== node.subkeyCount) {
    cells.fail(`${what} says it has ${node.subkeyCount} subkeys, its index lists ${out.length}`);
  }
  return out;
}

function appendLeaf(
  cells: RegfCells,
  leaf: Uint8Array,
  what: string,
  offset: number,
  out: number[],
  limit: number,
): void {
  const signature = cells.ascii2(leaf);
  const stride = signature === "li" ? 4 : signature === "lf" || signature === "lh" ? 8 : 0;
  if (stride === 0) cells.fail(`${what} is not a subkey list (offset 0x${hex(offset)})`);
  const elements = readIndexElements(cells, leaf, stride, what, offset);
  if (out.length + elements.length > limit) {
    cells.fail(`${what} lists more subkeys than the key's count of ${limit}`);
  }
  for (const element of elements) out.push(element);
}

/** Reads the first u32 of each element of an li/lf/lh/ri record. */
function readIndexElements(
  cells: RegfCells,
  list: Uint8Array,
  stride: number,
  what: string,
  offset: number,
): number[] {
  if (list.length < INDEX_ELEMENTS) cells.fail(`${what} is too short (offset 0x${hex(offset)})`);
  const view = viewOf(list);
  const count = view.getUint16(INDEX_COUNT, true);
  if (INDEX_ELEMENTS + count * stride > list.length) {
    cells.fail(`${what} has ${count} elements, more than its cell holds (offset 0x${hex(offset)})`);
  }
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(view.getUint32(INDEX_ELEMENTS + i * stride, true));
  return out;
}

/**
 * Returns the self-relative security descriptor of a key, or undefined if it has none.
 *
 * @throws {WimFormatError} If the sk record is invalid.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { parseKeyNode, readSecurityDescriptor } from "./regf_keys.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * const root = parseKeyNode(cells, cells.rootOffset, "root");
 * assert.ok(readSecurityDescriptor(cells, root, "root")![0] === 1);
 * ```
 */
export function readSecurityDescriptor(
  cells: RegfCells,
  node: KeyNode,
  what: string,
): Uint8Array | undefined {
  if (node.securityOffset === REGF_NO_CELL) return undefined;
  const skWhat = `security record of ${what}`;
  const sk = cells.cell(node.securityOffset, skWhat);
  if (cells.ascii2(sk) !== "sk" || sk.length < SK_DESCRIPTOR) {
    cells.fail(`${skWhat} is not a key security record (offset 0x${hex(node.securityOffset)})`);
  }
  const size = viewOf(sk).getUint32(SK_DESCRIPTOR_SIZE, true);
  if (size > sk.length - SK_DESCRIPTOR) cells.fail(`${skWhat} runs past its cell`);
  return sk.subarray(SK_DESCRIPTOR, SK_DESCRIPTOR + size);
}
