/**
 * Cell access for regf hive files: the base block, the chain of hive bins, and bounded reads of
 * cells.
 *
 * A primary hive file is a 4096-byte base block followed by the hive bins data: hive bins ("hbin",
 * each a multiple of 4096 bytes, with a 32-byte header) filled with cells. A cell is a signed
 * 32-bit size (negative when allocated, including the size field, 8-byte aligned) followed by its
 * data. Every reference between records is a cell offset relative to the start of the hive bins
 * data (file offset 0x1000). Reference: "Windows registry file format specification" (M. Suhanov),
 * sections "Base block", "Hive bin" and "Cell".
 *
 * Quirks relied on: the base block's hive bins data size is trusted only after the hbin chain it
 * covers has been walked; a reference to a free cell, into an hbin header, or to a cell that
 * crosses its hbin's end is corruption. A hive whose sequence numbers differ ("dirty", needing
 * its transaction logs) is still read as it is on disk; {@linkcode RegfCells.dirty} says so.
 */

import { WimFormatError } from "../errors.ts";

/** Size of the base block; the hive bins data starts right after it. */
export const REGF_BASE_BLOCK_SIZE = 4096;
/** Size of an hbin header. */
export const HBIN_HEADER_SIZE = 32;
/** Hive bins are multiples of this size. */
export const HBIN_ALIGNMENT_BYTES = 4096;
/** The offset value meaning "no cell". */
export const REGF_NO_CELL = 0xffffffff;
/** Cells start on this boundary (Windows uses 8; 4 tolerates writers that round less). */
const CELL_ALIGNMENT_BYTES = 4;
/** Smallest cell: the size field plus 4 bytes of data. */
const MIN_CELL_BYTES = 8;

/** +0x00: "regf". */
const BASE_SIGNATURE = 0x00;
/** +0x04: primary sequence number, incremented when a write starts. */
const BASE_PRIMARY_SEQUENCE = 0x04;
/** +0x08: secondary sequence number, incremented when a write ends. */
const BASE_SECONDARY_SEQUENCE = 0x08;
/** +0x0C: last written time (FILETIME). */
const BASE_LAST_WRITTEN = 0x0c;
/** +0x14: major version (always 1). */
const BASE_MAJOR_VERSION = 0x14;
/** +0x18: minor version (2 to 6). */
const BASE_MINOR_VERSION = 0x18;
/** +0x1C: file type (0 = primary file; 1, 2 and 6 are transaction logs). */
const BASE_FILE_TYPE = 0x1c;
/** +0x20: file format (1 = direct memory load). */
const BASE_FILE_FORMAT = 0x20;
/** +0x24: root cell offset. */
const BASE_ROOT_CELL = 0x24;
/** +0x28: hive bins data size in bytes. */
const BASE_HIVE_BINS_SIZE = 0x28;
/** +0x1FC: XOR-32 checksum of the 508 bytes before it. */
const BASE_CHECKSUM = 0x1fc;

/** hbin +0x00: "hbin". */
const HBIN_SIGNATURE = 0x00;
/** hbin +0x04: offset of this hbin from the start of the hive bins data. */
const HBIN_OFFSET = 0x04;
/** hbin +0x08: size of this hbin in bytes. */
const HBIN_SIZE = 0x08;

/** Minor versions wimkit reads (1.2 is NT 3.5/4.0, 1.6 is Windows 10 and later). */
const MIN_MINOR_VERSION = 2;
const MAX_MINOR_VERSION = 6;

/**
 * A validated hive file: base block fields and bounded access to the cells of its hive bins.
 *
 * @example Read the root cell of a hive
 * ```ts
 * import { RegfCells } from "./regf_cells.ts";
 * import assert from "node:assert/strict";
 * const cells = new RegfCells(await Deno.readFile("tests/fixtures/hives/software_small.hive"));
 * assert.equal(cells.ascii2(cells.cell(cells.rootOffset, "root key")), "nk");
 * ```
 */
export class RegfCells {
  /** The whole hive file. */
  readonly bytes: Uint8Array;
  /** "hive" or `hive "NAME"`, for error messages. */
  readonly label: string;
  /** Minor version of the writer (1.x). */
  readonly minorVersion: number;
  /** Cell offset of the root key node. */
  readonly rootOffset: number;
  /** Size of the hive bins data in bytes. */
  readonly hiveBinsSize: number;
  /** Last written time (FILETIME). */
  readonly lastWritten: bigint;
  /** True when the sequence numbers differ: a write did not finish and logs were not applied. */
  readonly dirty: boolean;
  readonly #view: DataView;
  /** Start offsets of the hbins (relative to the hive bins data), ascending. */
  readonly #binStarts: number[] = [];
  /** End offsets matching {@linkcode RegfCells.#binStarts}. */
  readonly #binEnds: number[] = [];

  /**
   * Checks the base block and walks the hbin chain.
   *
   * @param bytes The whole hive file.
   * @param name A name for error messages, such as "SYSTEM".
   * @throws {WimFormatError} If the base block or an hbin header is invalid or the file is
   * truncated.
   */
  constructor(bytes: Uint8Array, name?: string) {
    this.bytes = bytes;
    this.label = name === undefined ? "hive" : `hive "${name}"`;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < REGF_BASE_BLOCK_SIZE) {
      this.fail(
        `file is ${bytes.length} bytes, shorter than the ${REGF_BASE_BLOCK_SIZE}-byte base block`,
      );
    }
    if (this.ascii4(BASE_SIGNATURE) !== "regf") {
      this.fail(`not a registry hive (no "regf" signature)`);
    }
    const checksum = this.#u32(BASE_CHECKSUM);
    const expected = baseBlockChecksum(bytes);
    if (checksum !== expected) {
      this.fail(`base block checksum is 0x${hex(checksum)}, expected 0x${hex(expected)}`);
    }
    const major = this.#u32(BASE_MAJOR_VERSION);
    const minor = this.#u32(BASE_MINOR_VERSION);
    if (major !== 1 || minor < MIN_MINOR_VERSION || minor > MAX_MINOR_VERSION) {
      this.fail(
        `unsupported version ${major}.${minor}, expected 1.${MIN_MINOR_VERSION} to 1.${MAX_MINOR_VERSION}`,
      );
    }
    const fileType = this.#u32(BASE_FILE_TYPE);
    if (fileType !== 0) {
      this.fail(`file type is ${fileType}, expected 0 (a primary file, not a log)`);
    }
    const fileFormat = this.#u32(BASE_FILE_FORMAT);
    if (fileFormat !== 1) this.fail(`file format is ${fileFormat}, expected 1`);
    this.minorVersion = minor;
    this.rootOffset = this.#u32(BASE_ROOT_CELL);
    this.hiveBinsSize = this.#u32(BASE_HIVE_BINS_SIZE);
    this.lastWritten = this.#view.getBigUint64(BASE_LAST_WRITTEN, true);
    this.dirty = this.#u32(BASE_PRIMARY_SEQUENCE) !== this.#u32(BASE_SECONDARY_SEQUENCE);
    this.#walkBins();
  }

  /** Throws a {@linkcode WimFormatError} saying "Cannot read hive: MESSAGE". */
  fail(message: string): never {
    throw new WimFormatError(`Cannot read ${this.label}: ${message}`);
  }

  /**
   * Returns the data of the allocated cell at `offset` (a view, without the size field).
   *
   * @param offset Cell offset relative to the hive bins data.
   * @param what What refers to the cell, for messages, such as `key "Setup"`.
   * @throws {WimFormatError} If the offset is outside the hive bins, inside an hbin header, or the
   * cell is free or crosses the end of its hbin.
   */
  cell(offset: number, what: string): Uint8Array {
    const where = `(offset 0x${hex(offset)})`;
    if (offset >= this.hiveBinsSize) this.fail(`${what} points outside the hive ${where}`);
    if (offset % CELL_ALIGNMENT_BYTES !== 0) {
      this.fail(`${what} points to a misaligned cell ${where}`);
    }
    const bin = this.#binIndexOf(offset);
    const binStart = this.#binStarts[bin]!;
    const binEnd = this.#binEnds[bin]!;
    if (offset < binStart + HBIN_HEADER_SIZE) {
      this.fail(`${what} points into an hbin header ${where}`);
    }
    if (offset + MIN_CELL_BYTES > binEnd) {
      this.fail(`${what} points to a cell past its hbin's end ${where}`);
    }
    const start = REGF_BASE_BLOCK_SIZE + offset;
    const size = this.#view.getInt32(start, true);
    if (size >= 0) this.fail(`${what} points to a free cell ${where}`);
    const length = -size;
    if (length < MIN_CELL_BYTES || offset + length > binEnd) {
      this.fail(`${what} points to a cell of ${length} bytes that crosses its hbin's end ${where}`);
    }
    return this.bytes.subarray(start + 4, start + length);
  }

  /** The first two bytes of `data` as ASCII (a record signature), or "" if too short. */
  ascii2(data: Uint8Array): string {
    if (data.length < 2) return "";
    return String.fromCharCode(data[0]!, data[1]!);
  }

  #walkBins(): void {
    const fileBins = this.bytes.length - REGF_BASE_BLOCK_SIZE;
    const size = this.hiveBinsSize;
    if (size === 0 || size % HBIN_ALIGNMENT_BYTES !== 0) {
      this.fail(
        `hive bins data size is ${size} bytes, expected a non-zero multiple of ${HBIN_ALIGNMENT_BYTES}`,
      );
    }
    if (size > fileBins) {
      this.fail(
        `file is truncated: the base block says ${size} bytes of hive bins, the file has ${fileBins}`,
      );
    }
    let offset = 0;
    while (offset < size) {
      const at = REGF_BASE_BLOCK_SIZE + offset;
      if (this.ascii4(at + HBIN_SIGNATURE) !== "hbin") {
        this.fail(`no "hbin" signature at hive bins offset 0x${hex(offset)}`);
      }
      const recorded = this.#u32(at + HBIN_OFFSET);
      if (recorded !== offset) {
        this.fail(`hbin at offset 0x${hex(offset)} says it is at 0x${hex(recorded)}`);
      }
      const binSize = this.#u32(at + HBIN_SIZE);
      if (binSize === 0 || binSize % HBIN_ALIGNMENT_BYTES !== 0 || binSize > size - offset) {
        this.fail(`hbin at offset 0x${hex(offset)} has a bad size of ${binSize} bytes`);
      }
      this.#binStarts.push(offset);
      this.#binEnds.push(offset + binSize);
      offset += binSize;
    }
  }

  /** Index of the hbin holding `offset` (which is below the hive bins size). */
  #binIndexOf(offset: number): number {
    let low = 0;
    let high = this.#binStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.#binStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  #u32(at: number): number {
    return this.#view.getUint32(at, true);
  }

  /** Four bytes at a file offset as ASCII. */
  ascii4(at: number): string {
    const b = this.bytes;
    return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
  }
}

/**
 * Computes the XOR-32 checksum of a base block's first 508 bytes, as Windows stores it.
 *
 * Windows never stores 0 or 0xFFFFFFFF: they become 1 and 0xFFFFFFFE.
 *
 * @example
 * ```ts
 * import { baseBlockChecksum } from "./regf_cells.ts";
 * import assert from "node:assert/strict";
 * assert.ok(baseBlockChecksum(new Uint8Array(512)) === 1);
 * ```
 */
export function baseBlockChecksum(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = 0;
  for (let at = 0; at < BASE_CHECKSUM; at += 4) sum ^= view.getUint32(at, true);
  sum >>>= 0;
  if (sum === 0) return 1;
  if (sum === 0xffffffff) return 0xfffffffe;
  return sum;
}

/** Lower-case hex of a 32-bit value, without padding. */
export function hex(value: number): string {
  return (value >>> 0).toString(16);
}
