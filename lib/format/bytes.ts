/** Little-endian field access shared by the format parsers and serializers. */

import { WimFormatError } from "../errors.ts";

/** Returns a DataView over exactly `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads a u64 as a number, failing when it exceeds `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { readU64 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const view = new DataView(new Uint8Array(8).buffer);
 * view.setUint32(0, 5, true);
 * assert.ok(readU64(view, 0, "size") === 5);
 * ```
 */
export function readU64(view: DataView, offset: number, field: string): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  if (high > 0x1fffff) {
    throw new WimFormatError(`${field} is too large: 0x${high.toString(16)}${hex8(low)}`);
  }
  return high * 0x100000000 + low;
}

/** Writes a non-negative safe integer as a u64. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x100000000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x100000000), true);
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/** Returns true when every byte of `bytes` is zero. */
export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Lower-case hex of `bytes` (used for SHA-1 digests). */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0");
  return out;
}

const utf16Decoder = new TextDecoder("utf-16le");

/** Decodes UTF-16LE bytes (names in metadata). */
export function decodeUtf16(bytes: Uint8Array): string {
  return utf16Decoder.decode(bytes);
}

/** Encodes a string as UTF-16LE code units, without BOM or terminator. */
export function encodeUtf16(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const view = viewOf(out);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), true);
  return out;
}
