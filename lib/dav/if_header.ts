/**
 * The WebDAV If header (RFC 4918 §10.4): untagged and tagged lists of conditions, each a state
 * token or an entity tag, optionally negated with Not. Parsing is strict: a malformed header is a
 * 400, not a silently true condition.
 */

/** One condition of a list. */
export type IfCondition =
  | { readonly not: boolean; readonly token: string }
  | { readonly not: boolean; readonly etag: string };

/** One parenthesized list; `resource` is the tag (a URL) for tagged lists. */
export interface IfList {
  readonly resource?: string;
  readonly conditions: readonly IfCondition[];
}

/** A malformed If header. */
export class IfHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IfHeaderError";
  }
}

/**
 * Parses an If header into its lists.
 *
 * @throws {IfHeaderError} When the header does not follow the grammar.
 *
 * @example
 * ```ts
 * import { parseIfHeader } from "./if_header.ts";
 * import assert from "node:assert/strict";
 * const lists = parseIfHeader('</a> (<urn:uuid:1> ["x"]) (Not <DAV:no-lock>)');
 * assert.ok(lists.length === 2 && lists[1]?.resource === "/a");
 * assert.ok(lists[1]?.conditions[0]?.not === true);
 * ```
 */
export function parseIfHeader(header: string): IfList[] {
  const lists: IfList[] = [];
  let pos = 0;
  let resource: string | undefined;
  let tagged: boolean | undefined;
  const skipSpace = () => {
    while (pos < header.length && /\s/.test(header[pos]!)) pos++;
  };
  const readUntil = (close: string): string => {
    const end = header.indexOf(close, pos + 1);
    if (end < 0) throw new IfHeaderError(`If header: missing "${close}"`);
    const value = header.slice(pos + 1, end);
    pos = end + 1;
    return value;
  };
  for (skipSpace(); pos < header.length; skipSpace()) {
    const c = header[pos];
    if (c === "<") {
      if (tagged === false) throw new IfHeaderError("If header: mixes tagged and untagged lists");
      tagged = true;
      resource = readUntil(">");
      skipSpace();
      if (header[pos] !== "(") throw new IfHeaderError("If header: a tag must precede a list");
      continue;
    }
    if (c !== "(") throw new IfHeaderError(`If header: unexpected "${c}"`);
    if (tagged === undefined) tagged = false;
    pos++;
    const conditions: IfCondition[] = [];
    for (skipSpace(); header[pos] !== ")"; skipSpace()) {
      if (pos >= header.length) throw new IfHeaderError('If header: missing ")"');
      let not = false;
      if (header.slice(pos, pos + 3).toLowerCase() === "not") {
        not = true;
        pos += 3;
        skipSpace();
      }
      if (header[pos] === "<") conditions.push({ not, token: readUntil(">") });
      else if (header[pos] === "[") conditions.push({ not, etag: readUntil("]") });
      else throw new IfHeaderError("If header: expected a <state-token> or an [etag]");
    }
    pos++;
    if (conditions.length === 0) throw new IfHeaderError("If header: an empty list");
    lists.push(resource === undefined ? { conditions } : { resource, conditions });
  }
  if (lists.length === 0) throw new IfHeaderError("If header: no list");
  return lists;
}

/** The state tokens a client submits with an If header (those not under Not). */
export function submittedTokens(lists: readonly IfList[]): Set<string> {
  const tokens = new Set<string>();
  for (const list of lists) {
    for (const condition of list.conditions) {
      if ("token" in condition && !condition.not) tokens.add(condition.token);
    }
  }
  return tokens;
}

/** What a condition is evaluated against: the current state of one resource. */
export interface IfResourceState {
  /** Strong ETag of the resource, or undefined when it does not exist or has none. */
  readonly etag: string | undefined;
  /** Tokens of the locks that cover the resource. */
  readonly lockTokens: ReadonlySet<string>;
}

/**
 * Evaluates the lists: true when any list applying to a resource holds entirely.
 *
 * @param stateOf The state of the resource a list is tagged with (undefined for untagged lists:
 *   the request URL).
 *
 * @example
 * ```ts
 * import { evaluateIf, parseIfHeader } from "./if_header.ts";
 * import assert from "node:assert/strict";
 * const state = () => ({ etag: '"e"', lockTokens: new Set<string>() });
 * assert.ok(evaluateIf(parseIfHeader('(Not <DAV:no-lock> ["e"])'), state));
 * assert.ok(!evaluateIf(parseIfHeader("(<DAV:no-lock>)"), state));
 * ```
 */
export function evaluateIf(
  lists: readonly IfList[],
  stateOf: (resource: string | undefined) => IfResourceState,
): boolean {
  return lists.some((list) => {
    const state = stateOf(list.resource);
    return list.conditions.every((condition) => {
      const holds = "token" in condition
        ? state.lockTokens.has(condition.token)
        : state.etag !== undefined && sameEtag(state.etag, condition.etag);
      return holds !== condition.not;
    });
  });
}

function sameEtag(a: string, b: string): boolean {
  return a.replace(/^W\//, "") === b.replace(/^W\//, "");
}
