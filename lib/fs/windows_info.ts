/**
 * The WINDOWS element of an image's XML, as DISM and wimlib fill it for a Windows system tree
 * (wim-format.md §10.1): system root, architecture from kernel32.dll's PE header, product and
 * version values from the offline SOFTWARE hive, languages and product type from SYSTEM.
 */

import { readFileSync } from "node:fs";
import { type Hive, type HiveKey, openHive } from "../registry/hive.ts";

/** Ordered XML properties ([path under IMAGE, value]); repeated paths are repeated elements. */
export type XmlProperties = [string, string][];

const MACHINE_TO_ARCH: Record<number, string> = {
  0x14c: "0",
  0x1c0: "5",
  0x1c2: "5",
  0x1c4: "5",
  0x200: "6",
  0x8664: "9",
  0xaa64: "12",
};
const CURRENT_VERSION = "Microsoft\\Windows NT\\CurrentVersion";

/**
 * Reads the WINDOWS properties of the tree at `source`, or returns [] when it is not a Windows
 * system tree. Unreadable or corrupt hives leave out what they would have given.
 *
 * @example
 * ```ts
 * import { windowsProperties } from "./windows_info.ts";
 * import assert from "node:assert/strict";
 * assert.ok(windowsProperties("tests/fixtures").length === 0);
 * ```
 */
export function windowsProperties(source: string): XmlProperties {
  const systemRoot = findSystemRoot(source);
  if (!systemRoot) return [];
  const root = `${source}/${systemRoot.name}`;
  const properties: XmlProperties = [["WINDOWS/SYSTEMROOT", systemRoot.name.toUpperCase()]];
  const arch = peArchitecture(findPath(root, ["System32", "kernel32.dll"]));
  if (arch !== undefined) properties.push(["WINDOWS/ARCH", arch]);
  const software = loadHive(findPath(root, ["System32", "config", "SOFTWARE"]), "SOFTWARE");
  const system = loadHive(findPath(root, ["System32", "config", "SYSTEM"]), "SYSTEM");
  const version = software?.getKey(CURRENT_VERSION);
  const text = (key: HiveKey | undefined, name: string) => safe(() => key?.value(name)?.asString());
  const number = (key: HiveKey | undefined, name: string) =>
    safe(() => key?.value(name)?.asNumber());
  const push = (path: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") properties.push([path, String(value)]);
  };
  const editionId = text(version, "EditionID");
  const productName = text(version, "ProductName");
  push("WINDOWS/EDITIONID", editionId);
  push("WINDOWS/INSTALLATIONTYPE", text(version, "InstallationType"));
  push("WINDOWS/PRODUCTNAME", productName);
  let major = number(version, "CurrentMajorVersionNumber");
  let minor = number(version, "CurrentMinorVersionNumber");
  if (major === undefined) {
    const match = /^(\d+)\.(\d+)/.exec(text(version, "CurrentVersion") ?? "");
    if (match) [major, minor] = [Number(match[1]), Number(match[2])];
  }
  push("WINDOWS/VERSION/MAJOR", major);
  push("WINDOWS/VERSION/MINOR", minor);
  const build = text(version, "CurrentBuild");
  push("WINDOWS/VERSION/BUILD", build?.includes(".") ? text(version, "CurrentBuildNumber") : build);
  const control = system?.getKey("ControlSet001\\Control");
  const windows = control?.subkey("Windows");
  push("WINDOWS/VERSION/SPBUILD", number(windows, "CSDBuildNumber"));
  const csd = number(windows, "CSDVersion");
  push("WINDOWS/VERSION/SPLEVEL", csd === undefined ? undefined : csd >> 8);
  const options = control?.subkey("ProductOptions");
  push("WINDOWS/PRODUCTTYPE", text(options, "ProductType"));
  const suite = safe(() =>
    options?.value("ProductSuite")?.asStrings().filter((s) => s !== "").join(" ")
  );
  push("WINDOWS/PRODUCTSUITE", suite);
  const languages = control?.subkey("MUI")?.subkey("UILanguages");
  for (const language of safe(() => languages?.subkeys()) ?? []) {
    push("WINDOWS/LANGUAGES/LANGUAGE", language.name);
  }
  const install = text(control?.subkey("Nls")?.subkey("Language"), "InstallLanguage");
  const defaultLanguage = install ? lcidName(install) : undefined;
  push("WINDOWS/LANGUAGES/DEFAULT", defaultLanguage);
  push("FLAGS", editionId);
  push("DISPLAYNAME", productName);
  push("DISPLAYDESCRIPTION", productName);
  return properties;
}

/** Picks the top-level directory holding most of kernel32.dll, SOFTWARE and SYSTEM. */
function findSystemRoot(source: string): { name: string } | undefined {
  let best: { name: string; score: number } | undefined;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(source)];
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const root = `${source}/${entry.name}`;
    const score = [["System32", "kernel32.dll"], ["System32", "config", "SOFTWARE"], [
      "System32",
      "config",
      "SYSTEM",
    ]]
      .filter((parts) => findPath(root, parts) !== undefined).length;
    if (score === 0) continue;
    const better = !best || score > best.score ||
      (score === best.score && entry.name.toLowerCase() === "windows");
    if (better) best = { name: entry.name, score };
  }
  return best;
}

/** Resolves `parts` under `base` case-insensitively; undefined when missing. */
function findPath(base: string, parts: string[]): string | undefined {
  let path = base;
  for (const part of parts) {
    let match: string | undefined;
    try {
      for (const entry of Deno.readDirSync(path)) {
        if (entry.name.toLowerCase() === part.toLowerCase()) {
          match = entry.name;
          break;
        }
      }
    } catch {
      return undefined;
    }
    if (!match) return undefined;
    path = `${path}/${match}`;
  }
  return path;
}

function loadHive(path: string | undefined, name: string): Hive | undefined {
  if (!path) return undefined;
  return safe(() => openHive(readFileSync(path), { name }));
}

/** The ARCH value for a PE file's machine field. */
function peArchitecture(path: string | undefined): string | undefined {
  if (!path) return undefined;
  return safe(() => {
    const bytes = readFileSync(path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pe = view.getUint32(0x3c, true);
    if (view.getUint32(pe, true) !== 0x4550) return undefined;
    return MACHINE_TO_ARCH[view.getUint16(pe + 4, true)];
  });
}

const LCIDS: Record<number, string> = {
  0x0409: "en-US",
  0x0809: "en-GB",
  0x0407: "de-DE",
  0x040c: "fr-FR",
  0x0410: "it-IT",
  0x0c0a: "es-ES",
  0x0411: "ja-JP",
  0x0412: "ko-KR",
  0x0804: "zh-CN",
  0x0404: "zh-TW",
  0x0416: "pt-BR",
  0x0816: "pt-PT",
  0x0419: "ru-RU",
  0x0413: "nl-NL",
  0x041d: "sv-SE",
  0x0414: "nb-NO",
  0x0406: "da-DK",
  0x040b: "fi-FI",
  0x0415: "pl-PL",
  0x0405: "cs-CZ",
  0x040e: "hu-HU",
  0x041f: "tr-TR",
  0x0408: "el-GR",
  0x040d: "he-IL",
  0x0401: "ar-SA",
  0x041e: "th-TH",
  0x0422: "uk-UA",
  0x0418: "ro-RO",
  0x041b: "sk-SK",
  0x0424: "sl-SI",
};

/** Language name for a hex LCID string like "0409". */
function lcidName(hex: string): string | undefined {
  return LCIDS[parseInt(hex, 16)];
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
