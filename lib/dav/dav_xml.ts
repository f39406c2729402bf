/**
 * The XML bodies of WebDAV (RFC 4918 §14): reading PROPFIND, PROPPATCH and LOCK requests with
 * @xmldom/xmldom (namespace-aware), and writing property elements. Dead property values are kept as
 * the serialized element, which carries every namespace declaration it needs.
 */

import { DOMParser, type Element, type Node, XMLSerializer } from "@xmldom/xmldom";

/** The DAV: namespace. */
export const DAV_NS = "DAV:";

/** A property name: namespace URI ("" for none) and local name. */
export interface PropName {
  readonly ns: string;
  readonly local: string;
}

/** A request body that is not the XML the method expects; the handler answers 400. */
export class DavXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DavXmlError";
  }
}

/** What a PROPFIND asks for. */
export type PropfindRequest =
  | { readonly type: "allprop"; readonly include: readonly PropName[] }
  | { readonly type: "propname" }
  | { readonly type: "prop"; readonly names: readonly PropName[] };

/** One instruction of a PROPPATCH, in document order. */
export type PropPatchOperation =
  | { readonly op: "set"; readonly name: PropName; readonly xml: string }
  | { readonly op: "remove"; readonly name: PropName };

/** The body of a LOCK request that creates a lock. */
export interface LockInfo {
  readonly scope: "exclusive" | "shared";
  /** The DAV:owner element, serialized, if the client sent one. */
  readonly ownerXml?: string;
}

/** The key of a property in maps: "{ns}local" (Clark notation). */
export function propKey(name: PropName): string {
  return `{${name.ns}}${name.local}`;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[c]};`,
  );
}

/**
 * Writes a property element with `innerXml` as content (empty element when it is "").
 *
 * @example
 * ```ts
 * import { propElement } from "./dav_xml.ts";
 * import assert from "node:assert/strict";
 * assert.ok(propElement({ ns: "DAV:", local: "getetag" }, "x") === "<D:getetag>x</D:getetag>");
 * ```
 */
export function propElement(name: PropName, innerXml = ""): string {
  const open = name.ns === DAV_NS
    ? `D:${name.local}`
    : `X:${name.local} xmlns:X="${escapeXml(name.ns)}"`;
  const close = name.ns === DAV_NS ? `D:${name.local}` : `X:${name.local}`;
  if (name.ns === "") {
    return innerXml === ""
      ? `<${name.local} xmlns=""/>`
      : `<${name.local} xmlns="">${innerXml}</${name.local}>`;
  }
  return innerXml === "" ? `<${open}/>` : `<${open}>${innerXml}</${close}>`;
}

function parseDocument(text: string): Element {
  let root: Element | null = null;
  try {
    const doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== "warning") throw new DavXmlError(message);
      },
    }).parseFromString(text, "application/xml");
    root = doc.documentElement;
  } catch (error) {
    throw new DavXmlError(`the request body is not well-formed XML (${(error as Error).message})`);
  }
  if (!root) throw new DavXmlError("the request body has no root element");
  return root;
}

function elementChildren(node: Node): Element[] {
  const out: Element[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 1) out.push(child as Element);
  }
  return out;
}

function isDav(element: Element, local: string): boolean {
  return element.namespaceURI === DAV_NS && element.localName === local;
}

function nameOf(element: Element): PropName {
  return { ns: element.namespaceURI ?? "", local: element.localName ?? element.nodeName };
}

function expectRoot(text: string, local: string): Element {
  const root = parseDocument(text);
  if (!isDav(root, local)) throw new DavXmlError(`expected a DAV:${local} element`);
  return root;
}

/**
 * Reads a PROPFIND body; an empty body means allprop (RFC 4918 §9.1).
 *
 * @throws {DavXmlError} For malformed XML or an unexpected structure.
 *
 * @example
 * ```ts
 * import { parsePropfind } from "./dav_xml.ts";
 * import assert from "node:assert/strict";
 * const r = parsePropfind('<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>');
 * assert.ok(r.type === "prop" && r.names[0]?.local === "getetag");
 * ```
 */
export function parsePropfind(text: string): PropfindRequest {
  if (text.trim() === "") return { type: "allprop", include: [] };
  const root = expectRoot(text, "propfind");
  const children = elementChildren(root);
  const prop = children.find((e) => isDav(e, "prop"));
  if (prop) return { type: "prop", names: elementChildren(prop).map(nameOf) };
  if (children.some((e) => isDav(e, "propname"))) return { type: "propname" };
  if (children.some((e) => isDav(e, "allprop"))) {
    const include = children.find((e) => isDav(e, "include"));
    return { type: "allprop", include: include ? elementChildren(include).map(nameOf) : [] };
  }
  throw new DavXmlError("DAV:propfind needs prop, propname or allprop");
}

/**
 * Reads a PROPPATCH body into set/remove operations in document order.
 *
 * @throws {DavXmlError} For malformed XML or an unexpected structure.
 *
 * @example
 * ```ts
 * import { parsePropPatch } from "./dav_xml.ts";
 * import assert from "node:assert/strict";
 * const ops = parsePropPatch(
 *   '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a xmlns="urn:x">1</a></D:prop></D:set>' +
 *     "</D:propertyupdate>",
 * );
 * assert.ok(ops[0]?.op === "set" && ops[0].name.ns === "urn:x");
 * ```
 */
export function parsePropPatch(text: string): PropPatchOperation[] {
  const root = expectRoot(text, "propertyupdate");
  const operations: PropPatchOperation[] = [];
  const serializer = new XMLSerializer();
  for (const instruction of elementChildren(root)) {
    const op = isDav(instruction, "set") ? "set" : isDav(instruction, "remove") ? "remove" : null;
    if (!op) continue;
    for (const prop of elementChildren(instruction).filter((e) => isDav(e, "prop"))) {
      for (const element of elementChildren(prop)) {
        const name = nameOf(element);
        operations.push(
          op === "set" ? { op, name, xml: serializer.serializeToString(element) } : { op, name },
        );
      }
    }
  }
  if (operations.length === 0) throw new DavXmlError("DAV:propertyupdate changes nothing");
  return operations;
}

/**
 * Reads a LOCK body (DAV:lockinfo).
 *
 * @throws {DavXmlError} For malformed XML, or a lock type other than write.
 *
 * @example
 * ```ts
 * import { parseLockInfo } from "./dav_xml.ts";
 * import assert from "node:assert/strict";
 * const info = parseLockInfo(
 *   '<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype>' +
 *     "<owner>me</owner></lockinfo>",
 * );
 * assert.ok(info.scope === "shared" && info.ownerXml?.includes("me") === true);
 * ```
 */
export function parseLockInfo(text: string): LockInfo {
  const root = expectRoot(text, "lockinfo");
  const children = elementChildren(root);
  const scope = children.find((e) => isDav(e, "lockscope"));
  const scopeValue = scope ? elementChildren(scope)[0] : undefined;
  if (!scopeValue || !(isDav(scopeValue, "exclusive") || isDav(scopeValue, "shared"))) {
    throw new DavXmlError("DAV:lockinfo needs a lockscope of exclusive or shared");
  }
  const type = children.find((e) => isDav(e, "locktype"));
  const typeValue = type ? elementChildren(type)[0] : undefined;
  if (!typeValue || !isDav(typeValue, "write")) {
    throw new DavXmlError("only write locks are supported");
  }
  const owner = children.find((e) => isDav(e, "owner"));
  return {
    scope: isDav(scopeValue, "shared") ? "shared" : "exclusive",
    ...(owner ? { ownerXml: new XMLSerializer().serializeToString(owner) } : {}),
  };
}

/** The start of a multistatus response body. */
export const MULTISTATUS_OPEN =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">';

/** The end of a multistatus response body. */
export const MULTISTATUS_CLOSE = "</D:multistatus>\n";

/** One DAV:propstat block: the properties (already XML) that share `status`. */
export function propstat(propsXml: string, status: number, reason: string): string {
  return `<D:propstat><D:prop>${propsXml}</D:prop><D:status>HTTP/1.1 ${status} ${reason}</D:status></D:propstat>`;
}
