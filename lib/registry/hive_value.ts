/** A registry value read from a hive, with its REG_* type and typed accessors for its data. */

import { WimFormatError } from "../errors.ts";
import { decodeUtf16le } from "./regf_text.ts";

/** REG_* value type numbers, as stored in a vk record. */
export const RegType = {
  REG_NONE: 0,
  REG_SZ: 1,
  REG_EXPAND_SZ: 2,
  REG_BINARY: 3,
  REG_DWORD: 4,
  REG_DWORD_BIG_ENDIAN: 5,
  REG_LINK: 6,
  REG_MULTI_SZ: 7,
  REG_RESOURCE_LIST: 8,
  REG_FULL_RESOURCE_DESCRIPTOR: 9,
  REG_RESOURCE_REQUIREMENTS_LIST: 10,
  REG_QWORD: 11,
} as const;

const TYPE_NAMES: readonly string[] = Object.keys(RegType);

/**
 * Returns the name of a REG_* type number, or "REG_0x…" for a type Windows does not define.
 *
 * @example
 * ```ts
 * import { regTypeName } from "./hive_value.ts";
 * import assert from "node:assert/strict";
 * assert.ok(regTypeName(4) === "REG_DWORD" && regTypeName(0x20) === "REG_0x20");
 * ```
 */
export function regTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `REG_0x${type.toString(16)}`;
}

/**
 * One value of a registry key: its name, REG_* type and raw data.
 *
 * @example Read a DWORD and a string
 * ```ts
 * import { HiveValue, RegType } from "./hive_value.ts";
 * import assert from "node:assert/strict";
 * const dword = new HiveValue("Major", RegType.REG_DWORD, new Uint8Array([10, 0, 0, 0]));
 * assert.equal(dword.asNumber(), 10);
 * const sz = new HiveValue("Name", RegType.REG_SZ, new Uint8Array([0x48, 0, 0x69, 0, 0, 0]));
 * assert.equal(sz.asString(), "Hi");
 * ```
 */
export class HiveValue {
  /** The value name; "" for the default value. */
  readonly name: string;
  /** REG_* type number (see {@linkcode RegType}). */
  readonly type: number;
  /** The raw data; may be a view into the hive bytes, so copy it before changing it. */
  readonly data: Uint8Array;

  constructor(name: string, type: number, data: Uint8Array) {
    this.name = name;
    this.type = type;
    this.data = data;
  }

  /** The REG_* name of {@linkcode HiveValue.type}. */
  get typeName(): string {
    return regTypeName(this.type);
  }

  /**
   * Decodes REG_SZ, REG_EXPAND_SZ or REG_LINK data as UTF-16LE, up to the first NUL if any.
   *
   * @throws {WimFormatError} If the value has another type.
   */
  asString(): string {
    const type = this.type;
    if (type !== RegType.REG_SZ && type !== RegType.REG_EXPAND_SZ && type !== RegType.REG_LINK) {
      this.#wrongType("a string", "REG_SZ, REG_EXPAND_SZ or REG_LINK");
    }
    const text = decodeUtf16le(this.data);
    const nul = text.indexOf("\0");
    return nul === -1 ? text : text.slice(0, nul);
  }

  /**
   * Decodes REG_MULTI_SZ data into its strings (up to the first empty one, as Windows does); a
   * REG_SZ or REG_EXPAND_SZ value gives a list of one string.
   *
   * @throws {WimFormatError} If the value has another type.
   */
  asStrings(): string[] {
    if (this.type === RegType.REG_SZ || this.type === RegType.REG_EXPAND_SZ) {
      return [this.asString()];
    }
    if (this.type !== RegType.REG_MULTI_SZ) this.#wrongType("strings", "REG_MULTI_SZ or REG_SZ");
    const out: string[] = [];
    for (const part of decodeUtf16le(this.data).split("\0")) {
      if (part === "") break;
      out.push(part);
    }
    return out;
  }

  /**
   * Reads REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD data as a number.
   *
   * @throws {WimFormatError} If the value has another type, too little data, or a QWORD above
   * `Number.MAX_SAFE_INTEGER` (use {@linkcode HiveValue.asBigInt}).
   */
  asNumber(): number {
    const value = this.asBigInt();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new WimFormatError(
        `Cannot read value "${this.name}" as a number: ${value} is above 2^53 - 1, read it as a bigint`,
      );
    }
    return Number(value);
  }

  /**
   * Reads REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD data as a bigint.
   *
   * @throws {WimFormatError} If the value has another type or too little data.
   */
  asBigInt(): bigint {
    const type = this.type;
    const size = type === RegType.REG_QWORD ? 8 : 4;
    if (
      type !== RegType.REG_DWORD && type !== RegType.REG_DWORD_BIG_ENDIAN &&
      type !== RegType.REG_QWORD
    ) {
      this.#wrongType("a number", "REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD");
    }
    if (this.data.length < size) {
      throw new WimFormatError(
        `Cannot read value "${this.name}" as a number: ${this.typeName} has ${this.data.length} bytes of data, expected ${size}`,
      );
    }
    const view = new DataView(this.data.buffer, this.data.byteOffset, size);
    if (type === RegType.REG_QWORD) return view.getBigUint64(0, true);
    return BigInt(view.getUint32(0, type === RegType.REG_DWORD));
  }

  #wrongType(as: string, expected: string): never {
    throw new WimFormatError(
      `Cannot read value "${this.name}" as ${as}: it is ${this.typeName}, expected ${expected}`,
    );
  }
}
