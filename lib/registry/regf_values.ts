/**
 * Registry value records: the value list of a key, key values (vk) and their data, including big
 * data (db).
 *
 * A value's data lives in the vk record itself when it is 4 bytes or less (the top bit of the
 * size is set), in one cell, or, for more than {@linkcode BIG_DATA_SEGMENT_BYTES} bytes in hives
 * of version 1.4 and later, in segments listed by a db record. Reference: "Windows registry file
 * format specification" (M. Suhanov), sections "Key value" and "Big data".
 *
 * Quirk relied on: hivex writes large values as one oversized cell even in 1.5 hives, so a value
 * is read as big data only when its cell starts with "db" and is too small to hold the data
 * itself; Windows never stores data that fits one cell behind a db record.
 */

import { hex, REGF_NO_CELL, type RegfCells } from "./regf_cells.ts";
import type { KeyNode } from "./regf_keys.ts";
import { decodeLatin1, decodeUtf16le, viewOf } from "./regf_text.ts";

/** Most data bytes one big-data segment holds. */
export const BIG_DATA_SEGMENT_BYTES = 16344;

/** vk +0x02: name length in bytes. */
const VK_NAME_LENGTH = 0x02;
/** vk +0x04: data size; the top bit means the data is in the data offset field. */
const VK_DATA_SIZE = 0x04;
/** vk +0x08: data offset, or the data itself (4 bytes or less). */
const VK_DATA_OFFSET = 0x08;
/** vk +0x0C: data type (REG_*). */
const VK_TYPE = 0x0c;
/** vk +0x10: flags. */
const VK_FLAGS = 0x10;
/** vk +0x14: value name. */
const VK_NAME = 0x14;
/** vk flag: the name is stored one byte per character. */
const VALUE_COMP_NAME = 0x0001;
/** vk data size bit: the data is resident in the data offset field. */
const DATA_RESIDENT = 0x80000000;
/** Most bytes resident data can hold. */
const MAX_RESIDENT_BYTES = 4;

/** db +0x02: number of segments. */
const DB_SEGMENT_COUNT = 0x02;
/** db +0x04: offset of the segment list. */
const DB_SEGMENT_LIST = 0x04;
/** Smallest db record. */
const DB_RECORD_BYTES = 8;

/** A decoded key value (vk), data not yet read. */
export interface ValueRecord {
  /** The value name; "" for the default value. */
  readonly name: string;
  /** REG_* type. */
  readonly type: number;
  /** Data size in bytes. */
  readonly dataSize: number;
  /** Cell offset of the data, or the data itself when resident. */
  readonly dataOffset: number | Uint8Array;
}

/**
 * Lists the cell offsets of a key's values in list order.
 *
 * @throws {WimFormatError} If the value list does not hold the key's value count.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { parseKeyNode } from "./regf_keys.ts";
 * import { readValueOffsets } from "./regf_values.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * assert.ok(readValueOffsets(cells, parseKeyNode(cells, cells.rootOffset, "root"), "root").length === 0);
 * ```
 */
export function readValueOffsets(cells: RegfCells, node: KeyNode, what: string): number[] {
  if (node.valueCount === 0) return [];
  const list = cells.cell(node.valueListOffset, `value list of ${what}`);
  if (node.valueCount * 4 > list.length) {
    cells.fail(
      `${what} says it has ${node.valueCount} values, its value list holds ${list.length >>> 2}`,
    );
  }
  const view = viewOf(list);
  const out: number[] = [];
  for (let i = 0; i < node.valueCount; i++) out.push(view.getUint32(i * 4, true));
  return out;
}

/**
 * Decodes the key value record at `offset` without reading its data.
 *
 * @param what The value's description for messages, such as `value 3 of key "Setup"`.
 * @throws {WimFormatError} If the cell is not a valid vk record.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { parseKeyNode, readSubkeyOffsets } from "./regf_keys.ts";
 * import { parseValueRecord, readValueOffsets } from "./regf_values.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * let node = parseKeyNode(cells, cells.rootOffset, "root");
 * for (const name of ["Microsoft", "Windows NT", "CurrentVersion"]) {
 *   const offsets = readSubkeyOffsets(cells, node, name);
 *   node = offsets.map((o) => parseKeyNode(cells, o, name)).find((k) => k.name === name)!;
 * }
 * const names = readValueOffsets(cells, node, "key").map((o) => parseValueRecord(cells, o, "value").name);
 * assert.ok(names.includes("ProductName"));
 * ```
 */
export function parseValueRecord(cells: RegfCells, offset: number, what: string): ValueRecord {
  const data = cells.cell(offset, what);
  if (cells.ascii2(data) !== "vk" || data.length < VK_NAME) {
    cells.fail(`${what} is not a key value (offset 0x${hex(offset)})`);
  }
  const view = viewOf(data);
  const nameLength = view.getUint16(VK_NAME_LENGTH, true);
  if (VK_NAME + nameLength > data.length) {
    cells.fail(`name of ${what} runs past its cell (offset 0x${hex(offset)})`);
  }
  const nameBytes = data.subarray(VK_NAME, VK_NAME + nameLength);
  const flags = view.getUint16(VK_FLAGS, true);
  const name = (flags & VALUE_COMP_NAME) !== 0 ? decodeLatin1(nameBytes) : decodeUtf16le(nameBytes);
  const rawSize = view.getUint32(VK_DATA_SIZE, true);
  const type = view.getUint32(VK_TYPE, true);
  if ((rawSize & DATA_RESIDENT) !== 0) {
    const dataSize = rawSize & ~DATA_RESIDENT;
    if (dataSize > MAX_RESIDENT_BYTES) {
      cells.fail(
        `${what} says ${dataSize} bytes of data are resident, at most ${MAX_RESIDENT_BYTES} fit`,
      );
    }
    return {
      name,
      type,
      dataSize,
      dataOffset: data.subarray(VK_DATA_OFFSET, VK_DATA_OFFSET + dataSize),
    };
  }
  return { name, type, dataSize: rawSize, dataOffset: view.getUint32(VK_DATA_OFFSET, true) };
}

/**
 * Reads a value's data: resident, from one cell, or gathered from big-data segments.
 *
 * Single-cell data is returned as a view into the hive; big data is a new array.
 *
 * @param what The value's description for messages.
 * @throws {WimFormatError} If the data cell or a big-data record is invalid or too small.
 *
 * @example
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import { readValueData } from "./regf_values.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * const record = { name: "x", type: 4, dataSize: 2, dataOffset: new Uint8Array([1, 2]) };
 * assert.ok(readValueData(cells, record, "value").length === 2);
 * ```
 */
export function readValueData(cells: RegfCells, record: ValueRecord, what: string): Uint8Array {
  const { dataSize, dataOffset } = record;
  if (dataOffset instanceof Uint8Array) return dataOffset;
  if (dataSize === 0) return new Uint8Array(0);
  const dataWhat = `data of ${what}`;
  const cell = cells.cell(dataOffset, dataWhat);
  if (cell.length >= dataSize) return cell.subarray(0, dataSize);
  if (dataSize > BIG_DATA_SEGMENT_BYTES && cells.ascii2(cell) === "db") {
    return readBigData(cells, cell, dataSize, dataWhat, dataOffset);
  }
  cells.fail(
    `${dataWhat} is ${dataSize} bytes, its cell holds ${cell.length} (offset 0x${hex(dataOffset)})`,
  );
}

function readBigData(
  cells: RegfCells,
  db: Uint8Array,
  dataSize: number,
  what: string,
  offset: number,
): Uint8Array {
  if (db.length < DB_RECORD_BYTES) {
    cells.fail(`big-data record of ${what} is too short (offset 0x${hex(offset)})`);
  }
  const view = viewOf(db);
  const count = view.getUint16(DB_SEGMENT_COUNT, true);
  if (count * BIG_DATA_SEGMENT_BYTES < dataSize) {
    cells.fail(`${what} is ${dataSize} bytes, more than its ${count} big-data segments hold`);
  }
  const listOffset = view.getUint32(DB_SEGMENT_LIST, true);
  const list = cells.cell(listOffset, `segment list of ${what}`);
  if (count * 4 > list.length) {
    cells.fail(
      `segment list of ${what} holds fewer than ${count} segments (offset 0x${hex(listOffset)})`,
    );
  }
  const listView = viewOf(list);
  // Check every segment before allocating, so the allocation is bounded by real cells.
  const segments: Uint8Array[] = [];
  const seen = new Set<number>();
  let remaining = dataSize;
  for (let i = 0; i < count && remaining > 0; i++) {
    const segmentOffset = listView.getUint32(i * 4, true);
    if (seen.has(segmentOffset) || segmentOffset === REGF_NO_CELL) {
      cells.fail(`segment ${i} of ${what} repeats or is missing (offset 0x${hex(segmentOffset)})`);
    }
    seen.add(segmentOffset);
    const segment = cells.cell(segmentOffset, `segment ${i} of ${what}`);
    const take = Math.min(remaining, BIG_DATA_SEGMENT_BYTES);
    if (segment.length < take) {
      cells.fail(`segment ${i} of ${what} holds ${segment.length} bytes, expected ${take}`);
    }
    segments.push(segment.subarray(0, take));
    remaining -= take;
  }
  const out = new Uint8Array(dataSize);
  let at = 0;
  for (const segment of segments) {
    out.set(segment, at);
    at += segment.length;
  }
  return out;
}
