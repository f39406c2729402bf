import assert from "node:assert/strict";
import { WimXml } from "../../lib/format/xml_info.ts";
import { WimFormatError } from "../../lib/errors.ts";

function utf16(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    new DataView(out.buffer).setUint16(2 + i * 2, text.charCodeAt(i), true);
  }
  return out;
}

const MICROSOFT_STYLE =
  '<WIM><TOTALBYTES>1234</TOTALBYTES><IMAGE INDEX="1"><DIRCOUNT>3</DIRCOUNT>' +
  "<FILECOUNT>10</FILECOUNT><TOTALBYTES>99</TOTALBYTES><CREATIONTIME><HIGHPART>0x01D5C119</HIGHPART>" +
  "<LOWPART>0x4AD6D707</LOWPART></CREATIONTIME><WINDOWS><ARCH>9</ARCH><LANGUAGES><LANGUAGE>en-US</LANGUAGE>" +
  '<FALLBACK LANGUAGE="en-US">en-US</FALLBACK><LANGUAGE>de-DE</LANGUAGE></LANGUAGES></WINDOWS>' +
  "<SERVICINGDATA><IMAGESTATE>x &amp; y</IMAGESTATE></SERVICINGDATA><NAME>Windows 10 Pro</NAME></IMAGE></WIM>";

Deno.test("WimXml keeps unknown elements and their order byte for byte", () => {
  const bytes = utf16(MICROSOFT_STYLE);
  const xml = WimXml.parse(bytes);
  assert.deepEqual(xml.serialize(), bytes);
  const image = xml.images()[0]!;
  assert.equal(image.name, "Windows 10 Pro");
  assert.equal(image.fileCount, 10);
  assert.equal(image.creationTime, 132224078451234567n);
  assert.equal(image.properties["WINDOWS/ARCH"], "9");
  assert.equal(xml.totalBytes, 1234);
});

Deno.test("WimXml edits keep other images untouched and renumber after a removal", () => {
  const xml = WimXml.parse(utf16(MICROSOFT_STYLE));
  const second = xml.addImage({ name: "Second", description: "two" });
  xml.setImageProperty(second, "WINDOWS/EDITIONID", "Professional");
  xml.setImageTime(second, "CREATIONTIME", 0x01d5c1194ad6d707n);
  assert.equal(xml.imageCount, 2);
  assert.equal(xml.images()[1]!.creationTime, 0x01d5c1194ad6d707n);
  xml.removeImage(1);
  assert.equal(xml.images()[0]!.name, "Second");
  assert.match(xml.toString(), /<IMAGE INDEX="1"><NAME>Second<\/NAME>/);
});

Deno.test("WimXml.parse() rejects malformed XML and a wrong root", () => {
  assert.throws(() => WimXml.parse(utf16("<WIM><IMAGE></WIM>")), WimFormatError);
  assert.throws(() => WimXml.parse(utf16("<NOTWIM/>")), WimFormatError);
});
