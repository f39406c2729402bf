/**
 * The integrity table (wim-format.md §11): u32 total size, u32 entry count, u32 chunk size, then
 * one SHA-1 per chunk of the file range from the end of the header to the end of the blob table.
 */

import { WimFormatError } from "../errors.ts";
import { SHA1_SIZE } from "./constants.ts";
import { viewOf } from "./bytes.ts";

/** The decoded integrity table. */
export interface IntegrityTable {
  /** Bytes hashed per entry (wimlib writes 10 MiB). */
  readonly chunkSize: number;
  /** One SHA-1 per chunk. */
  readonly hashes: Uint8Array[];
}

/** Chunk size wimlib and wimkit write. */
export const INTEGRITY_CHUNK_SIZE = 10 * 1024 * 1024;

/**
 * Decodes an integrity table and checks its sizes against the covered byte count.
 *
 * @throws {WimFormatError} If the sizes do not agree.
 *
 * @example
 * ```ts
 * import { parseIntegrityTable, serializeIntegrityTable } from "./integrity.ts";
 * import assert from "node:assert/strict";
 * const bytes = serializeIntegrityTable({ chunkSize: 4, hashes: [new Uint8Array(20)] });
 * assert.ok(parseIntegrityTable(bytes, 3).hashes.length === 1);
 * ```
 */
export function parseIntegrityTable(bytes: Uint8Array, coveredBytes: number): IntegrityTable {
  if (bytes.length < 12) throw new WimFormatError("integrity table is shorter than 12 bytes");
  const view = viewOf(bytes);
  const size = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  const chunkSize = view.getUint32(8, true);
  const expected = chunkSize === 0 ? -1 : Math.ceil(coveredBytes / chunkSize);
  if (size !== bytes.length || size !== 12 + count * SHA1_SIZE || count !== expected) {
    throw new WimFormatError(
      `integrity table is inconsistent: size ${size}, ${count} entries of ${chunkSize} bytes for ${coveredBytes} covered bytes`,
    );
  }
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    hashes.push(bytes.slice(12 + i * SHA1_SIZE, 12 + (i + 1) * SHA1_SIZE));
  }
  return { chunkSize, hashes };
}

/** Encodes an integrity table. */
export function serializeIntegrityTable(table: IntegrityTable): Uint8Array {
  const out = new Uint8Array(12 + table.hashes.length * SHA1_SIZE);
  const view = viewOf(out);
  view.setUint32(0, out.length, true);
  view.setUint32(4, table.hashes.length, true);
  view.setUint32(8, table.chunkSize, true);
  table.hashes.forEach((hash, i) => out.set(hash, 12 + i * SHA1_SIZE));
  return out;
}
