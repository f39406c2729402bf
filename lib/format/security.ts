/**
 * Security data at the start of a metadata resource (MS `SECURITYBLOCK_DISK`), wim-format.md §7.1.
 *
 * +0x00 u32 total length L (8-aligned), +0x04 u32 descriptor count N, +0x08 u64 × N sizes, then
 * the self-relative SECURITY_DESCRIPTORs back to back, padded to L.
 */

import { WimFormatError } from "../errors.ts";
import { readU64, viewOf, writeU64 } from "./bytes.ts";

/** The security descriptors of one image. */
export interface SecurityData {
  /** Self-relative descriptors; a dentry's security id indexes this array. */
  readonly descriptors: Uint8Array[];
  /** Bytes the block occupies (where the root dentry starts). */
  readonly length: number;
}

/**
 * Decodes the security data at the start of `metadata`.
 *
 * @throws {WimFormatError} If a count or size runs past the metadata resource.
 *
 * @example
 * ```ts
 * import { parseSecurityData } from "./security.ts";
 * import assert from "node:assert/strict";
 * const data = parseSecurityData(Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0));
 * assert.ok(data.length === 8 && data.descriptors.length === 0);
 * ```
 */
export function parseSecurityData(metadata: Uint8Array): SecurityData {
  if (metadata.length < 8) throw new WimFormatError("metadata resource is shorter than 8 bytes");
  const view = viewOf(metadata);
  let length = view.getUint32(0, true);
  if (length === 0) length = 8;
  const count = view.getUint32(4, true);
  if (length < 8 || length > metadata.length || 8 + count * 8 > length) {
    throw new WimFormatError(
      `security data claims ${length} bytes and ${count} descriptors in a ${metadata.length}-byte metadata resource`,
    );
  }
  const descriptors: Uint8Array[] = [];
  let pos = 8 + count * 8;
  for (let i = 0; i < count; i++) {
    const size = readU64(view, 8 + i * 8, "security descriptor size");
    if (pos + size > length) {
      throw new WimFormatError(`security descriptor ${i} runs past the security data`);
    }
    descriptors.push(metadata.slice(pos, pos + size));
    pos += size;
  }
  return { descriptors, length: (length + 7) & ~7 };
}

/** Encodes security descriptors as a security data block, padded to 8 bytes. */
export function serializeSecurityData(descriptors: readonly Uint8Array[]): Uint8Array {
  let total = 8 + descriptors.length * 8;
  for (const d of descriptors) total += d.length;
  const length = (total + 7) & ~7;
  const out = new Uint8Array(length);
  const view = viewOf(out);
  view.setUint32(0, length, true);
  view.setUint32(4, descriptors.length, true);
  let pos = 8 + descriptors.length * 8;
  descriptors.forEach((d, i) => {
    writeU64(view, 8 + i * 8, d.length);
    out.set(d, pos);
    pos += d.length;
  });
  return out;
}
