/**
 * An offline Windows registry hive (regf) as a tree of keys and values, read from bytes in memory.
 *
 * Everything is read lazily from the bytes: opening checks the base block and the hbin chain,
 * and each key decodes its subkeys and values when asked. Names match case-insensitively, code
 * unit by code unit in upper case, as Windows compares them. The tree is kept a tree even in a
 * hostile hive: a subkey must name its key as parent, may appear once, and may not be one of its
 * own ancestors, and keys nest at most {@linkcode MAX_KEY_DEPTH} deep, so walking every key
 * visits each key node once and ends.
 */

import { hex, RegfCells } from "./regf_cells.ts";
import {
  type KeyNode,
  parseKeyNode,
  readSecurityDescriptor,
  readSubkeyOffsets,
} from "./regf_keys.ts";
import {
  parseValueRecord,
  readValueData,
  readValueOffsets,
  type ValueRecord,
} from "./regf_values.ts";
import { HiveValue } from "./hive_value.ts";

/** Deepest key nesting accepted (Windows allows 512 levels). */
export const MAX_KEY_DEPTH = 512;

/** Options for {@linkcode openHive}. */
export interface OpenHiveOptions {
  /** A name for error messages, such as "SYSTEM" or the hive's path. */
  name?: string;
}

/**
 * Opens a registry hive held in memory.
 *
 * @param bytes The whole hive file (for example `Windows/System32/config/SOFTWARE`).
 * @throws {WimFormatError} If the base block, the hbin chain or the root key is invalid.
 *
 * @example Read the product name from a SOFTWARE hive
 * ```ts
 * import { openHive } from "./hive.ts";
 * import assert from "node:assert/strict";
 * const hive = openHive(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * const version = hive.getKey("Microsoft\\Windows NT\\CurrentVersion");
 * assert.equal(version?.value("productname")?.asString(), "Windows 10 Pro");
 * ```
 */
export function openHive(bytes: Uint8Array, options: OpenHiveOptions = {}): Hive {
  return new Hive(new RegfCells(bytes, options.name));
}

/**
 * An opened hive: its root key and path lookups; made by {@linkcode openHive}.
 *
 * @example List the root's subkeys
 * ```ts
 * import { openHive } from "./hive.ts";
 * import assert from "node:assert/strict";
 * const hive = openHive(await Deno.readFile("tests/fixtures/hives/system_small.hive"));
 * assert.ok(hive.root.subkeys().some((key) => key.name === "ControlSet001"));
 * ```
 */
export class Hive {
  /** The root key (its name is often "ROOT" or "$$$PROTO.HIV"; paths start below it). */
  readonly root: HiveKey;
  /** Last written time from the base block (FILETIME). */
  readonly lastWritten: bigint;
  /** True when the hive was not cleanly written and its transaction logs were not applied. */
  readonly dirty: boolean;

  /** @internal Use {@linkcode openHive}. */
  constructor(cells: RegfCells) {
    this.root = new HiveKey(cells, parseKeyNode(cells, cells.rootOffset, "root key"), undefined);
    this.lastWritten = cells.lastWritten;
    this.dirty = cells.dirty;
  }

  /**
   * Finds a key by its backslash-separated path below the root, case-insensitively.
   *
   * Empty path elements are ignored, so "" and "\\" give the root.
   *
   * @throws {WimFormatError} If a key on the way is corrupt.
   */
  getKey(path: string): HiveKey | undefined {
    let key: HiveKey | undefined = this.root;
    for (const part of path.split("\\")) {
      if (part === "") continue;
      key = key.subkey(part);
      if (key === undefined) return undefined;
    }
    return key;
  }
}

/**
 * A registry key: its name, subkeys in hive order and values.
 *
 * @example Walk to a key and read its subkey names
 * ```ts
 * import { openHive } from "./hive.ts";
 * import assert from "node:assert/strict";
 * const hive = openHive(await Deno.readFile("tests/fixtures/hives/system_small.hive"));
 * const languages = hive.getKey("ControlSet001\\Control\\MUI\\UILanguages")!;
 * assert.deepEqual(languages.subkeys().map((key) => key.name), ["de-DE", "en-US"]);
 * ```
 */
export class HiveKey {
  /** The key name as stored. */
  readonly name: string;
  /** Backslash-separated path from the root ("" for the root). */
  readonly path: string;
  /** Last written time (FILETIME). */
  readonly lastWritten: bigint;
  readonly #cells: RegfCells;
  readonly #node: KeyNode;
  readonly #parent: HiveKey | undefined;
  readonly #depth: number;
  #subkeys: HiveKey[] | undefined;
  #foldedName: string | undefined;
  #valueRecords: ValueRecord[] | undefined;

  /** @internal Keys come from {@linkcode Hive.root} and {@linkcode HiveKey.subkeys}. */
  constructor(cells: RegfCells, node: KeyNode, parent: HiveKey | undefined) {
    this.#cells = cells;
    this.#node = node;
    this.#parent = parent;
    this.#depth = parent === undefined ? 0 : parent.#depth + 1;
    this.name = node.name;
    this.path = parent === undefined
      ? ""
      : parent.path === ""
      ? node.name
      : `${parent.path}\\${node.name}`;
    this.lastWritten = node.lastWritten;
  }

  /**
   * The subkeys in hive order (Windows keeps them sorted by upper-case name).
   *
   * @throws {WimFormatError} If the subkey index or a subkey is corrupt, or the keys form a cycle.
   */
  subkeys(): HiveKey[] {
    if (this.#subkeys !== undefined) return this.#subkeys;
    const cells = this.#cells;
    const what = this.#describe();
    const offsets = readSubkeyOffsets(cells, this.#node, what);
    if (offsets.length > 0 && this.#depth + 1 > MAX_KEY_DEPTH) {
      cells.fail(`${what} nests deeper than ${MAX_KEY_DEPTH} keys`);
    }
    const seen = new Set<number>();
    const keys: HiveKey[] = [];
    for (const offset of offsets) {
      if (seen.has(offset)) {
        cells.fail(`subkey index of ${what} lists offset 0x${hex(offset)} twice`);
      }
      seen.add(offset);
      const ancestor = this.#selfOrAncestorAt(offset);
      if (ancestor !== undefined) {
        const target = ancestor.#describe();
        cells.fail(
          `subkey index of ${what} points back to ${target}, a cycle (offset 0x${hex(offset)})`,
        );
      }
      const node = parseKeyNode(cells, offset, `subkey ${keys.length} of ${what}`);
      if (node.parentOffset !== this.#node.offset) {
        cells.fail(
          `key "${node.name}" is listed under ${what} but names another parent (offset 0x${
            hex(offset)
          })`,
        );
      }
      keys.push(new HiveKey(cells, node, this));
    }
    this.#subkeys = keys;
    return keys;
  }

  /**
   * Finds a direct subkey by name, case-insensitively.
   *
   * @throws {WimFormatError} If the subkey index or a subkey is corrupt.
   */
  subkey(name: string): HiveKey | undefined {
    const wanted = foldName(name);
    return this.subkeys().find((key) => (key.#foldedName ??= foldName(key.name)) === wanted);
  }

  /**
   * The values in list order, data included.
   *
   * @throws {WimFormatError} If the value list, a value or its data is corrupt.
   */
  values(): HiveValue[] {
    return this.#records().map((record, index) => this.#toValue(record, index));
  }

  /**
   * Finds a value by name, case-insensitively; "" or "(default)" finds the default value.
   *
   * Only the found value's data is read, so a corrupt sibling does not hide it.
   *
   * @throws {WimFormatError} If the value list, a value record or the found value's data is corrupt.
   */
  value(name: string): HiveValue | undefined {
    const records = this.#records();
    const wanted = foldName(name);
    let index = records.findIndex((record) => foldName(record.name) === wanted);
    if (index === -1 && wanted === "(DEFAULT)") {
      index = records.findIndex((record) => record.name === "");
    }
    const record = records[index];
    return record === undefined ? undefined : this.#toValue(record, index);
  }

  /**
   * The key's self-relative security descriptor, or undefined if it has none.
   *
   * @throws {WimFormatError} If the key security record is corrupt.
   */
  securityDescriptor(): Uint8Array | undefined {
    return readSecurityDescriptor(this.#cells, this.#node, this.#describe());
  }

  #records(): ValueRecord[] {
    if (this.#valueRecords !== undefined) return this.#valueRecords;
    const what = this.#describe();
    const records = readValueOffsets(this.#cells, this.#node, what).map((offset, index) =>
      parseValueRecord(this.#cells, offset, `value ${index} of ${what}`)
    );
    this.#valueRecords = records;
    return records;
  }

  #toValue(record: ValueRecord, index: number): HiveValue {
    const what = `value "${record.name}" (${index}) of ${this.#describe()}`;
    return new HiveValue(record.name, record.type, readValueData(this.#cells, record, what));
  }

  /** This key or the ancestor whose key node is at `offset` (at most {@linkcode MAX_KEY_DEPTH} steps). */
  #selfOrAncestorAt(offset: number): HiveKey | undefined {
    if (this.#node.offset === offset) return this;
    return this.#parent === undefined ? undefined : this.#parent.#selfOrAncestorAt(offset);
  }

  #describe(): string {
    return this.#parent === undefined ? "root key" : `key "${this.path}"`;
  }
}

/** Upper-cases a name code unit by code unit, as Windows compares key and value names. */
function foldName(name: string): string {
  let out = "";
  for (const unit of name) {
    const upper = unit.toUpperCase();
    out += upper.length === unit.length ? upper : unit;
  }
  return out;
}
