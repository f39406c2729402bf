/**
 * The XML data (wim-format.md §10): a UTF-16LE document with a BOM, root `WIM`, one
 * `IMAGE INDEX="n"` per image and a top-level `TOTALBYTES`. The document is kept whole as a DOM,
 * so elements wimkit does not know (SERVICINGDATA, WINDOWS/LANGUAGES/FALLBACK, ...) survive edits.
 */

import { DOMParser, type Element, XMLSerializer } from "@xmldom/xmldom";
import { WimFormatError } from "../errors.ts";
import { Limits } from "./constants.ts";

type Document = ReturnType<DOMParser["parseFromString"]>;

/** What the XML says about one image. */
export interface ImageXmlInfo {
  /** 1-based index. */
  readonly index: number;
  /** NAME, or "". */
  readonly name: string;
  /** DESCRIPTION, or "". */
  readonly description: string;
  /** DIRCOUNT. */
  readonly dirCount: number;
  /** FILECOUNT. */
  readonly fileCount: number;
  /** TOTALBYTES. */
  readonly totalBytes: number;
  /** HARDLINKBYTES. */
  readonly hardLinkBytes: number;
  /** CREATIONTIME as FILETIME, 0n if absent. */
  readonly creationTime: bigint;
  /** LASTMODIFICATIONTIME as FILETIME, 0n if absent. */
  readonly lastModificationTime: bigint;
  /** FLAGS (edition), or "". */
  readonly flags: string;
  /** Text of every other simple element under IMAGE, by path ("WINDOWS/ARCH"). */
  readonly properties: Record<string, string>;
}

const utf16Decoder = new TextDecoder("utf-16le");

/**
 * The WIM's XML document with typed accessors.
 *
 * @example
 * ```ts
 * import { WimXml } from "./xml_info.ts";
 * import assert from "node:assert/strict";
 * const xml = WimXml.create();
 * xml.addImage({ name: "Base", description: "" });
 * assert.ok(WimXml.parse(xml.serialize()).images()[0]?.name === "Base");
 * ```
 */
export class WimXml {
  readonly #doc: Document;

  private constructor(doc: Document) {
    this.#doc = doc;
  }

  /** An empty `<WIM></WIM>` document. */
  static create(): WimXml {
    return WimXml.#parseText("<WIM></WIM>");
  }

  /**
   * Decodes the XML resource's bytes (UTF-16LE, BOM optional, trailing NULs ignored).
   *
   * @throws {WimFormatError} If the document is not well-formed or its root is not WIM.
   */
  static parse(bytes: Uint8Array): WimXml {
    if (bytes.length > Limits.MAX_XML_BYTES) {
      throw new WimFormatError(`XML data is ${bytes.length} bytes, over ${Limits.MAX_XML_BYTES}`);
    }
    let text = utf16Decoder.decode(bytes.subarray(0, bytes.length & ~1));
    const nul = text.indexOf("\0");
    if (nul >= 0) text = text.slice(0, nul);
    return WimXml.#parseText(text);
  }

  static #parseText(text: string): WimXml {
    let failure: string | undefined;
    const parser = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== "warning") failure ??= message;
      },
    });
    let doc: Document;
    try {
      doc = parser.parseFromString(text, "text/xml");
    } catch (error) {
      throw new WimFormatError(`XML data is not well-formed: ${firstLine(error)}`, {
        cause: error,
      });
    }
    if (failure !== undefined) {
      throw new WimFormatError(`XML data is not well-formed: ${firstLine(failure)}`);
    }
    if (doc.documentElement?.tagName !== "WIM") {
      throw new WimFormatError("XML data has no WIM root element");
    }
    return new WimXml(doc);
  }

  /** The document as UTF-16LE with a BOM, as wimlib writes it. */
  serialize(): Uint8Array {
    const text = new XMLSerializer().serializeToString(this.#doc);
    const out = new Uint8Array(2 + text.length * 2);
    out[0] = 0xff;
    out[1] = 0xfe;
    const view = new DataView(out.buffer);
    for (let i = 0; i < text.length; i++) view.setUint16(2 + i * 2, text.charCodeAt(i), true);
    return out;
  }

  /** The document as text (for `info --xml`). */
  toString(): string {
    return new XMLSerializer().serializeToString(this.#doc);
  }

  /** Number of IMAGE elements. */
  get imageCount(): number {
    return this.#imageElements().length;
  }

  /** Information about every image, ordered by INDEX. */
  images(): ImageXmlInfo[] {
    return this.#imageElements().map((element, i) => imageInfo(element, i + 1));
  }

  /** Top-level TOTALBYTES (0 if absent). */
  get totalBytes(): number {
    const element = childElement(this.#doc.documentElement!, "TOTALBYTES");
    return element ? Number(element.textContent ?? 0) || 0 : 0;
  }

  /** Sets top-level TOTALBYTES, creating it last if absent. */
  set totalBytes(value: number) {
    setChildText(this.#doc, this.#doc.documentElement!, "TOTALBYTES", String(value));
  }

  /** Appends an IMAGE element with the next index; returns that index. */
  addImage(fields: { name: string; description: string }): number {
    const root = this.#doc.documentElement!;
    const index = this.imageCount + 1;
    const image = this.#doc.createElement("IMAGE");
    image.setAttribute("INDEX", String(index));
    const total = childElement(root, "TOTALBYTES");
    if (total) root.insertBefore(image, total);
    else root.appendChild(image);
    if (fields.name) setChildText(this.#doc, image, "NAME", fields.name);
    if (fields.description) setChildText(this.#doc, image, "DESCRIPTION", fields.description);
    return index;
  }

  /** Sets (or creates) a simple element under image `index`, by path like "WINDOWS/ARCH". */
  setImageProperty(index: number, path: string, value: string): void {
    let parent = this.#imageElement(index);
    const parts = path.split("/");
    for (const part of parts.slice(0, -1)) {
      parent = childElement(parent, part) ??
        parent.appendChild(this.#doc.createElement(part)) as unknown as Element;
    }
    setChildText(this.#doc, parent, parts.at(-1)!, value);
  }

  /** Adds another element at `path` under image `index` (for repeated ones like LANGUAGE). */
  appendImageProperty(index: number, path: string, value: string): void {
    let parent = this.#imageElement(index);
    const parts = path.split("/");
    for (const part of parts.slice(0, -1)) {
      parent = childElement(parent, part) ??
        parent.appendChild(this.#doc.createElement(part)) as unknown as Element;
    }
    const element = this.#doc.createElement(parts.at(-1)!);
    element.appendChild(this.#doc.createTextNode(value));
    parent.appendChild(element);
  }

  /** Sets a FILETIME element (HIGHPART/LOWPART) under image `index`. */
  setImageTime(index: number, element: string, filetime: bigint): void {
    const hex = (n: bigint) => "0x" + n.toString(16).toUpperCase().padStart(8, "0");
    this.setImageProperty(index, `${element}/HIGHPART`, hex(filetime >> 32n));
    this.setImageProperty(index, `${element}/LOWPART`, hex(filetime & 0xffffffffn));
  }

  /** Copies image `index` of `other` as a new last image here; returns its new index. */
  importImage(other: WimXml, index: number): number {
    const source = other.#imageElement(index);
    const copy = this.#doc.importNode(source as never, true) as unknown as Element;
    const newIndex = this.imageCount + 1;
    copy.setAttribute("INDEX", String(newIndex));
    const root = this.#doc.documentElement!;
    const total = childElement(root, "TOTALBYTES");
    if (total) root.insertBefore(copy, total);
    else root.appendChild(copy);
    return newIndex;
  }

  /** Removes image `index` and renumbers the ones after it. */
  removeImage(index: number): void {
    const element = this.#imageElement(index);
    element.parentNode!.removeChild(element);
    this.#imageElements().forEach((e, i) => e.setAttribute("INDEX", String(i + 1)));
  }

  #imageElement(index: number): Element {
    const element = this.#imageElements()[index - 1];
    if (!element) throw new RangeError(`image ${index} does not exist in the XML data`);
    return element;
  }

  #imageElements(): Element[] {
    const images: Element[] = [];
    for (const child of elementChildren(this.#doc.documentElement!)) {
      if (child.tagName === "IMAGE") images.push(child);
    }
    return images.sort((a, b) => indexOf(a) - indexOf(b));
  }
}

function indexOf(element: Element): number {
  return Number(element.getAttribute("INDEX")) || 0;
}

function imageInfo(element: Element, index: number): ImageXmlInfo {
  const text = (name: string) => childElement(element, name)?.textContent ?? "";
  const num = (name: string) => Number(text(name)) || 0;
  const properties: Record<string, string> = {};
  collectProperties(element, "", properties);
  return {
    index,
    name: text("NAME"),
    description: text("DESCRIPTION"),
    dirCount: num("DIRCOUNT"),
    fileCount: num("FILECOUNT"),
    totalBytes: num("TOTALBYTES"),
    hardLinkBytes: num("HARDLINKBYTES"),
    creationTime: readTime(childElement(element, "CREATIONTIME")),
    lastModificationTime: readTime(childElement(element, "LASTMODIFICATIONTIME")),
    flags: text("FLAGS"),
    properties,
  };
}

function collectProperties(element: Element, prefix: string, out: Record<string, string>): void {
  for (const child of elementChildren(element)) {
    const path = prefix + child.tagName;
    const grandChildren = elementChildren(child);
    if (grandChildren.length === 0) {
      out[path] = out[path] === undefined
        ? child.textContent ?? ""
        : `${out[path]},${child.textContent ?? ""}`;
    } else collectProperties(child, path + "/", out);
  }
}

function readTime(element: Element | undefined): bigint {
  if (!element) return 0n;
  const part = (name: string) => {
    const value = childElement(element, name)?.textContent?.trim() ?? "0";
    try {
      return BigInt(value) & 0xffffffffn;
    } catch {
      return 0n;
    }
  };
  return (part("HIGHPART") << 32n) | part("LOWPART");
}

function elementChildren(element: Element): Element[] {
  const out: Element[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) out.push(node as unknown as Element);
  }
  return out;
}

function childElement(element: Element, name: string): Element | undefined {
  return elementChildren(element).find((child) => child.tagName === name);
}

function setChildText(doc: Document, parent: Element, name: string, value: string): void {
  let element = childElement(parent, name);
  if (!element) element = parent.appendChild(doc.createElement(name)) as unknown as Element;
  while (element.firstChild) element.removeChild(element.firstChild);
  element.appendChild(doc.createTextNode(value));
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split("\n")[0]!.trim();
}
