/** Text and field helpers shared by the regf record parsers: UTF-16LE and one-byte names. */

/**
 * Decodes UTF-16LE code units exactly (lone surrogates kept), ignoring a trailing odd byte.
 *
 * @example
 * ```ts
 * import { decodeUtf16le } from "./regf_text.ts";
 * import assert from "node:assert/strict";
 * assert.ok(decodeUtf16le(new Uint8Array([0x41, 0, 0x42, 0])) === "AB");
 * ```
 */
export function decodeUtf16le(bytes: Uint8Array): string {
  const units = bytes.length >>> 1;
  let out = "";
  const chunk: number[] = [];
  for (let i = 0; i < units; i++) {
    chunk.push(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
    if (chunk.length === 4096) {
      out += String.fromCharCode(...chunk);
      chunk.length = 0;
    }
  }
  return out + String.fromCharCode(...chunk);
}

/** Decodes a "compressed" name: each byte is one UTF-16 code unit below 256. */
export function decodeLatin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/** A little-endian field reader over exactly `bytes` (a cell's data). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
