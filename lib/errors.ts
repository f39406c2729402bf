/** wimkit's error classes: one base carrying context, a few subclasses callers branch on. */

/** Stable error codes for scripts, `--json` output and exit codes. */
export type WimkitErrorCode =
  | "format"
  | "integrity"
  | "codec"
  | "unsafe-path"
  | "compression-mismatch"
  | "refused"
  | "not-found"
  | "io"
  | "usage";

/** Context every wimkit error may carry. */
export interface WimkitErrorContext {
  /** Which WIM or source file. */
  file?: string;
  /** 1-based image index. */
  image?: number;
  /** Path inside the image. */
  path?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base of every error wimkit throws for bad data or a refused operation.
 *
 * @example
 * ```ts
 * import { WimkitError } from "@wimkit/wimkit";
 * import assert from "node:assert/strict";
 * const error = new WimkitError("Cannot open \"a.wim\": not a WIM file", "format", { file: "a.wim" });
 * assert.ok(error.code === "format" && error.file === "a.wim");
 * ```
 */
export class WimkitError extends Error {
  /** Stable code for scripts. */
  readonly code: WimkitErrorCode;
  /** Which WIM or source file, if known. */
  readonly file: string | undefined;
  /** 1-based image index, if known. */
  readonly image: number | undefined;
  /** Path inside the image, if known. */
  readonly path: string | undefined;

  constructor(message: string, code: WimkitErrorCode, context: WimkitErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = context.file;
    this.image = context.image;
    this.path = context.path;
  }

  /**
   * The same error, of the same class and code, with a new message and more context; the original
   * becomes the cause. For layers that add what they know ("Cannot read "a.wim": ...").
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WimFormatError } from "@wimkit/wimkit";
   * const error = new WimFormatError("bad chunk table").rephrase('Cannot read "a.wim": bad chunk table', {
   *   file: "a.wim",
   * });
   * assert.ok(error instanceof WimFormatError);
   * assert.equal(error.file, "a.wim");
   * ```
   */
  rephrase(message: string, context: Omit<WimkitErrorContext, "cause"> = {}): this {
    const file = context.file ?? this.file;
    const image = context.image ?? this.image;
    const path = context.path ?? this.path;
    const copy = new WimkitError(message, this.code, {
      ...(file === undefined ? {} : { file }),
      ...(image === undefined ? {} : { image }),
      ...(path === undefined ? {} : { path }),
      cause: this,
    }) as this;
    Object.setPrototypeOf(copy, Object.getPrototypeOf(this));
    // Fields a subclass adds (e.g. ViewError.reason) come along.
    const fields = copy as Record<string, unknown>;
    for (const [key, value] of Object.entries(this)) fields[key] ??= value;
    copy.name = this.name;
    return copy as this;
  }
}

/** A structure in a WIM is invalid. */
export class WimFormatError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "format", context);
  }
}

/** A SHA-1 or integrity-table check failed. */
export class WimIntegrityError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "integrity", context);
  }
}

/** A chunk failed to decode; thrown by codecs without file context, wrapped by the wim layer. */
export class CodecError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "codec", context);
  }
}

/** A name or link in an image would write outside the apply target. */
export class UnsafePathError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "unsafe-path", context);
  }
}

/** An append asked for a compression type other than the WIM's. */
export class CompressionMismatchError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "compression-mismatch", context);
  }
}

/** A remote file (HTTP) changed on the server while it was being read. */
export class SourceChangedError extends WimkitError {
  constructor(message: string, context: WimkitErrorContext = {}) {
    super(message, "io", context);
  }
}
