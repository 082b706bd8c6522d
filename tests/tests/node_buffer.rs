//! node:buffer against Node.js itself. Each test serves a worker (nodejs_compat) that makes a
//! list of Buffer calls and answers, for each, what it returned (made JSON) or the name, code and
//! message of what it threw; the answer must equal Node's, check by check.
//!
//! The expected values (`*_NODE`) are Node v20.20.2's answers to the very same worker: the module
//! `worker_source` assembles, written to `w.mjs` and run by
//! `node --input-type=module -e 'const m = await import("./w.mjs");
//! console.log(JSON.stringify(await (await m.default.fetch()).json()))'`.
//! Two kinds of answers are compared by the error's name and code only (`codeOnly`): messages
//! that name kMaxLength (Node 20's is 2 ** 32, the engine's 2 ** 31 - 1), and a TypeError the
//! engine words its own way.

use edge_tests::*;

/// The start of every worker here: the module, shared inputs, and `answer(checks)`, which runs
/// `checks(check)` and answers the JSON of what each `check(name, f)` gave.
const PRELUDE: &str = r#"import * as buffer from "node:buffer";
import { inspect } from "node:util";

const { Buffer } = buffer;
const text = "héllo wörld € 𝄞";
const encodings = ["utf8", "utf-8", "UTF8", "utf16le", "ucs2", "UCS-2", "latin1", "binary", "ascii", "hex", "base64", "base64url"];
const bytes = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22]);

// What `f` gave, made JSON (bigints as "5n", byte arrays as "<Buffer 0102>"), or the error it threw.
function show(value) {
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return value.map(show);
  if (value instanceof Uint8Array) {
    return `<${value.constructor.name} ${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}>`;
  }
  if (Number.isNaN(value)) return "NaN";
  if (Object.is(value, -0)) return "-0";
  return value;
}

// Only the error's name and code: for messages that name kMaxLength (Node 20: 2 ** 32, here the
// engine's 2 ** 31 - 1) or that the engine words itself.
function codeOnly(f) {
  try {
    f();
    return "no error";
  } catch (error) {
    return [error.name, error.code];
  }
}

function answer(checks) {
  const out = {};
  const check = (name, f) => {
    try {
      out[name] = show(f());
    } catch (error) {
      out[name] = { error: error.name, code: error.code, message: error.message };
    }
  };
  checks(check);
  return Response.json(out);
}
"#;

/// Strings in and out: byteLength (base64 estimated from its length, as Node does), invalid
/// UTF-8 (one U+FFFD per maximal subpart), `write` (whole characters only), every encoding both
/// ways and round trips, loose base64 and odd hex.
const STRINGS: &str = r#"      // 1. byteLength estimates base64 from its length.
      check("byteLength", () => [
        ...encodings.map((e) => Buffer.byteLength(text, e)),
        Buffer.byteLength("not base64 at all", "base64"),
        Buffer.byteLength("not base64 at all", "base64url"),
        Buffer.byteLength("aGk=", "base64"), Buffer.byteLength("aGk", "base64url"), Buffer.byteLength("YQ==="),
        Buffer.byteLength("abc", "nope"), Buffer.byteLength("\ud800"), Buffer.byteLength("\ud83d\ude00x".repeat(100)),
        Buffer.byteLength(new Uint16Array(3)), Buffer.byteLength(new ArrayBuffer(5)),
      ]);
      check("byteLengthBad", () => Buffer.byteLength(5));
      // 2. Invalid UTF-8: one U+FFFD per maximal subpart; a BOM is kept.
      check("invalidUtf8", () => [
        Buffer.from([0x61, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xf0, 0x9f, 0x98, 0x62]).toString(),
        Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xef, 0xbb, 0xbf]).toString(),
        Buffer.from([0xef, 0xbb, 0xbf, 0x41]).toString().length,
        Buffer.from("€uro").toString("utf8", 1),
        Buffer.from([0xe2, 0x82, 0xac, 0xe2]).utf8Slice(0, 4),
      ]);
      check("loneSurrogates", () => [Buffer.from("a\ud800b").toString("hex"), Buffer.from("\udc00").toString("hex"), Buffer.from("\ud83d\ude00").toString("hex")]);
      // 3. write() writes whole characters only.
      check("writeString", () => {
        const b = Buffer.alloc(8);
        return [b.write("héllo", 1), b.write("ff00", 6, "hex"), b.write("€€", 0, 2), b.write("€€", 3, 4), b.toString("hex"),
          Buffer.alloc(5).write("a\ud83d\ude00", 0), Buffer.alloc(3).write("a\ud83d\ude00")];
      });
      check("writeVariants", () => {
        const b = Buffer.alloc(10);
        return [b.write("abc", "latin1"), b.write("YWJj", 3, "base64"), b.write("ZGVm", 6, 2, "base64url"), b.write("\u0101b", 8, "ascii"), b.toString("hex"),
          b.write("xyz", 0, 5, "ucs2"), b.toString("hex", 0, 5), b.write("abc", 1, 1), b.write("a1zz", "hex"), b.write("abc", 9, "hex")];
      });
      for (const [name, f] of [
        ["writeNotString", () => Buffer.alloc(4).write(5)],
        ["writeOffset", () => Buffer.alloc(4).write("a", 5)],
        ["writeLength", () => Buffer.alloc(4).write("a", 1, -1)],
        ["writeFraction", () => Buffer.alloc(4).write("a", 1.5)],
        ["writeEncoding", () => Buffer.alloc(4).write("a", 0, 1, "nope")],
      ]) check(name, f);
      // Encodings both ways and round trips.
      check("encodeEach", () => Object.fromEntries(encodings.map((e) => [e, Buffer.from(text, e).toString("hex")])));
      check("decodeEach", () => Object.fromEntries(encodings.map((e) => [e, bytes.toString(e)])));
      check("roundTrip", () => Object.fromEntries(encodings.map((e) => [e, Buffer.from(Buffer.from(text).toString(e), e).toString()])));
      check("roundTripBinary", () => {
        const all = Buffer.alloc(256);
        for (let i = 0; i < 256; i++) all[i] = i;
        return ["latin1", "binary", "hex", "base64", "base64url"].map((e) => Buffer.from(all.toString(e), e).equals(all));
      });
      check("utf16", () => [
        Buffer.from([0x61, 0, 0x62]).toString("ucs2"), Buffer.from([0x3d, 0xd8, 0x00, 0xde]).toString("utf16le"),
        Buffer.from([0x00, 0xd8, 0x61, 0x00]).toString("utf16le").charCodeAt(0), Buffer.from([0xff, 0xfe, 0x61, 0]).toString("utf16le").length,
        Buffer.from("\ud800x", "utf16le").toString("hex"), Buffer.from([1, 0x61, 0, 0x62, 0]).subarray(1).toString("utf16le"),
        Buffer.from("a€", "ucs2").swap16().toString("hex"),
      ]);
      check("latin1Ascii", () => [
        Buffer.from("é€a", "latin1").toString("hex"), Buffer.from("é€a", "ascii").toString("hex"),
        Buffer.from([0x61, 0xe9, 0xff, 0x80]).toString("ascii"), Buffer.from([0x61, 0xe9, 0xff]).toString("latin1"),
        Buffer.from([0x61, 0x62]).toString("ascii"), Buffer.from("ÿþ", "binary").toString("hex"),
      ]);
      check("hex", () => [
        Buffer.from("abc", "hex").toString("hex"), Buffer.from("zz12", "hex").length, Buffer.from("12zz34", "hex").toString("hex"),
        Buffer.from("ABCDEF", "hex").toString("hex"), Buffer.from("a", "hex").length, Buffer.from("0g", "hex").length,
        Buffer.from("1234é5", "hex").toString("hex"), bytes.toString("hex", 3, 9), bytes.subarray(1).toString("hex"),
      ]);
      check("base64", () => [
        Buffer.from("subjects?_d>>>").toString("base64url"), Buffer.from("subjects?_d>>>").toString("base64"),
        Buffer.from("c3ViamVjdHM_X2Q-Pj4", "base64url").toString(), Buffer.from("c3ViamVjdHM/X2Q+Pj4=", "base64url").toString(),
        Buffer.from("c3ViamVjdHM_X2Q-Pj4", "base64").toString(), bytes.toString("base64", 1, 6), bytes.subarray(3).toString("base64url"),
      ]);
      check("looseBase64", () => ["aGVs bG8=\n", "aGVsbG8", "aGVsbG8===", "a", "YQ==YQ==", "YR==", "YW", "YWJ", "=YWJj", "YW=Jj",
        "-_-_", "+/+/", "-/+_", "Y Q", "YQ=", "!!YWJj!!", "YW\u0141Jj", "\tYW\r\nJj"].map((s) => Buffer.from(s, "base64").toString("hex")));"#;

/// Node v20.20.2's answer to the worker of [`STRINGS`].
const STRINGS_NODE: &str = r#"{
  "byteLength": [22, 22, 22, 32, 32, 32, 16, 16, 16, 8, 12, 12, 12, 12, 2, 2, 5, 3, 3, 500, 6, 5],
  "byteLengthBad": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"string\" argument must be of type string or an instance of Buffer or ArrayBuffer. Received type number (5)"},
  "invalidUtf8": ["a�(���b", "���������﻿", 2, "��uro", "€�"],
  "loneSurrogates": ["61efbfbd62", "efbfbd", "f09f9880"],
  "writeString": [6, 2, 0, 3, "0068c3e282acff00", 5, 1],
  "writeVariants": [3, 3, 2, 2, "61626361626364650162", 4, "7800790062", 1, 1, 1],
  "writeNotString": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "argument must be a string"},
  "writeOffset": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 && <= 4. Received 5"},
  "writeLength": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"length\" is out of range. It must be >= 0 && <= 4. Received -1"},
  "writeFraction": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be an integer. Received 1.5"},
  "writeEncoding": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: nope"},
  "encodeEach": {"utf8": "68c3a96c6c6f2077c3b6726c6420e282ac20f09d849e", "utf-8": "68c3a96c6c6f2077c3b6726c6420e282ac20f09d849e", "UTF8": "68c3a96c6c6f2077c3b6726c6420e282ac20f09d849e", "utf16le": "6800e9006c006c006f0020007700f60072006c0064002000ac20200034d81edd", "ucs2": "6800e9006c006c006f0020007700f60072006c0064002000ac20200034d81edd", "UCS-2": "6800e9006c006c006f0020007700f60072006c0064002000ac20200034d81edd", "latin1": "68e96c6c6f2077f6726c6420ac20341e", "binary": "68e96c6c6f2077f6726c6420ac20341e", "ascii": "68e96c6c6f2077f6726c6420ac20341e", "hex": "", "base64": "865968c2b95d", "base64url": "865968c2b95d"},
  "decodeEach": {"utf8": "\u0000\u0001���\u00124Vx����\u0011\"", "utf-8": "\u0000\u0001���\u00124Vx����\u0011\"", "UTF8": "\u0000\u0001���\u00124Vx����\u0011\"", "utf16le": "Ā聿￾㐒硖벚∑", "ucs2": "Ā聿￾㐒硖벚∑", "UCS-2": "Ā聿￾㐒硖벚∑", "latin1": "\u0000\u0001þÿ\u00124Vx¼Þð\u0011\"", "binary": "\u0000\u0001þÿ\u00124Vx¼Þð\u0011\"", "ascii": "\u0000\u0001\u0000~\u00124Vx\u001a<^p\u0011\"", "hex": "00017f80feff123456789abcdef01122", "base64": "AAF/gP7/EjRWeJq83vARIg==", "base64url": "AAF_gP7_EjRWeJq83vARIg"},
  "roundTrip": {"utf8": "héllo wörld € 𝄞", "utf-8": "héllo wörld € 𝄞", "UTF8": "héllo wörld € 𝄞", "utf16le": "héllo wörld € 𝄞", "ucs2": "héllo wörld € 𝄞", "UCS-2": "héllo wörld € 𝄞", "latin1": "héllo wörld € 𝄞", "binary": "héllo wörld € 𝄞", "ascii": "hC)llo wC6rld b\u0002, p\u001d\u0004\u001e", "hex": "héllo wörld € 𝄞", "base64": "héllo wörld € 𝄞", "base64url": "héllo wörld € 𝄞"},
  "roundTripBinary": [true, true, true, true, true],
  "utf16": ["a", "😀", 55296, 2, "00d87800", "ab", "006120ac"],
  "latin1Ascii": ["e9ac61", "e9ac61", "ai\u0000", "aéÿ", "ab", "fffe"],
  "hex": ["ab", 0, "12", "abcdef", 0, 0, "1234", "80feff123456", "017f80feff123456789abcdef01122"],
  "base64": ["c3ViamVjdHM_X2Q-Pj4", "c3ViamVjdHM/X2Q+Pj4=", "subjects?_d>>>", "subjects?_d>>>", "subjects?_d>>>", "AX+A/v8=", "gP7_EjRWeJq83vARIg"],
  "looseBase64": ["68656c6c6f", "68656c6c6f", "68656c6c6f", "", "61", "61", "61", "6162", "", "61", "fbffbf", "fbffbf", "fbffbf", "61", "61", "616263", "616009", "616263"]
}"#;

/// compare/equals with any Uint8Array, and the fixed-width readers and writers: their values, and
/// the codes and messages of their range errors.
const NUMBERS: &str = r#"      // 4. compare/equals take any Uint8Array.
      check("compare", () => [
        Buffer.compare(Buffer.from("abc"), Buffer.from("abd")), Buffer.compare(Buffer.from("b"), Buffer.from("abc")),
        Buffer.compare(new Uint8Array([1, 2]), Buffer.from([1, 2])), Buffer.compare(Buffer.from([1]), new Uint8Array([1, 0])),
        Buffer.from("abc").compare(Buffer.from("abc")), Buffer.from("abcdef").compare(Buffer.from("cd"), 0, 2, 2, 4),
        Buffer.from("abc").compare(new Uint8Array([97, 98, 99]), 1), Buffer.from("abc").compare(Buffer.from("b"), 0, 1, 1, 2),
        Buffer.from("abc").compare(Buffer.from("abc"), 3, 3, 0, 0), Buffer.from("abc").compare(Buffer.from("abc"), 0, 1, 2, 2),
        [Buffer.from("b"), Buffer.from("a"), Buffer.from("ab")].sort(Buffer.compare).map(String),
        Buffer.from("abc").equals(Buffer.from("abc")), Buffer.from("abc").equals(new Uint8Array([97, 98, 99])),
        Buffer.from("abc").equals(new Uint8Array([97, 98])), Buffer.alloc(0).equals(new Uint8Array(0)),
        Buffer.alloc(300, 7).equals(Buffer.alloc(300, 7)), Buffer.compare(Buffer.alloc(300, 7), Buffer.concat([Buffer.alloc(299, 7), Buffer.from([8])])),
        Buffer.compare(Buffer.alloc(200, 0xff), Buffer.alloc(201, 0xff)), Buffer.compare(Buffer.alloc(200, 0x80), Buffer.alloc(200, 0x7f)),
      ]);
      for (const [name, f] of [
        ["equalsString", () => Buffer.from("abc").equals("abc")],
        ["compareString", () => Buffer.compare(Buffer.from("a"), "a")],
        ["compareRange", () => Buffer.from("abc").compare(Buffer.from("abc"), 0, 10)],
        ["compareTarget", () => Buffer.from("abc").compare([1])],
      ]) check(name, f);
      // 5. Range errors of the readers and writers.
      for (const [name, f] of [
        ["readUInt32BE", () => Buffer.alloc(4).readUInt32BE(10)],
        ["readUInt32LEShort", () => Buffer.alloc(2).readUInt32LE(0)],
        ["readUInt8Negative", () => bytes.readUInt8(-1)],
        ["readFraction", () => bytes.readUInt16LE(1.5)],
        ["readString", () => bytes.readUInt8("1")],
        ["readNaN", () => bytes.readInt8(NaN)],
        ["readBig", () => Buffer.alloc(4).readBigInt64LE(0)],
        ["readBigOffset", () => bytes.readBigUInt64BE(9)],
        ["readUIntLE7", () => bytes.readUIntLE(0, 7)],
        ["readIntBEFraction", () => bytes.readIntBE(0, 1.5)],
        ["readUIntLENoOffset", () => bytes.readUIntLE(undefined, 2)],
        ["readDouble", () => Buffer.alloc(7).readDoubleLE()],
        ["writeUInt8Value", () => Buffer.alloc(4).writeUInt8(300)],
        ["writeUInt8Offset", () => Buffer.alloc(4).writeUInt8(3, 10)],
        ["writeInt8Value", () => Buffer.alloc(4).writeInt8(-129)],
        ["writeUInt32Value", () => Buffer.alloc(8).writeUInt32LE(2 ** 32)],
        ["writeInt32Value", () => Buffer.alloc(8).writeInt32LE(-(2 ** 31) - 1)],
        ["writeInt16Value", () => Buffer.alloc(8).writeInt16BE(40000)],
        ["writeUInt16Offset", () => Buffer.alloc(8).writeUInt16LE(1, 7)],
        ["writeIntLE48", () => Buffer.alloc(8).writeIntLE(2 ** 47, 0, 6)],
        ["writeUIntBE48", () => Buffer.alloc(8).writeUIntBE(2 ** 48, 0, 6)],
        ["writeUIntLE40", () => Buffer.alloc(8).writeUIntLE(-1, 0, 5)],
        ["writeUIntLEByteLength", () => Buffer.alloc(8).writeUIntLE(1, 0, 0)],
        ["writeOffset", () => Buffer.alloc(8).writeUInt32LE(1, 5)],
        ["writeOffsetNegative", () => Buffer.alloc(8).writeUInt32LE(1, -1)],
        ["writeDoubleShort", () => Buffer.alloc(4).writeDoubleLE(1, 0)],
        ["writeFloatFraction", () => Buffer.alloc(4).writeFloatLE(1, 0.5)],
        ["writeBigInt", () => Buffer.alloc(8).writeBigInt64LE(2n ** 63n)],
        ["writeBigUInt", () => Buffer.alloc(8).writeBigUInt64LE(-1n)],
        ["writeBigUIntBig", () => Buffer.alloc(8).writeBigUInt64BE(2n ** 64n)],
        // The engine words this TypeError its own way.
        ["writeBigNumber", () => codeOnly(() => Buffer.alloc(8).writeBigInt64LE(1))],
      ]) check(name, f);
      // Readers and writers that work.
      check("readUnsigned", () => [
        bytes.readUInt8(3), bytes.readUInt16LE(2), bytes.readUInt16BE(2), bytes.readUInt32LE(4), bytes.readUInt32BE(4),
        bytes.readUIntLE(1, 6), bytes.readUIntBE(1, 6), bytes.readUIntLE(0, 3), bytes.readUIntBE(2, 5), bytes.readBigUInt64LE(8),
        bytes.readBigUInt64BE(8), bytes.readUint16LE(0), bytes.readBigUint64LE(0), bytes.readUInt8(),
      ]);
      check("readSigned", () => [
        bytes.readInt8(3), bytes.readInt16LE(4), bytes.readInt16BE(4), bytes.readInt32LE(2), bytes.readInt32BE(2),
        bytes.readIntLE(3, 5), bytes.readIntBE(3, 5), bytes.readIntLE(4, 6), bytes.readIntBE(4, 3), bytes.readBigInt64LE(0),
        bytes.readBigInt64BE(4), bytes.readBigInt64LE(8), bytes.readBigInt64BE(0),
      ]);
      check("floats", () => {
        const b = Buffer.alloc(24);
        return [b.writeFloatLE(1.5, 0), b.writeDoubleBE(-0.1, 4), b.writeFloatBE(3.4e38, 12), b.writeDoubleLE(-0, 16), b.toString("hex"),
          b.readFloatLE(0), b.readDoubleBE(4), b.readFloatBE(12), b.readDoubleLE(16), b.readFloatBE(0), b.readDoubleLE(4),
          Buffer.from("7fc00000", "hex").readFloatBE(0), Buffer.from("7ff0000000000000", "hex").readDoubleBE(0)];
      });
      check("writeIntegers", () => {
        const b = Buffer.alloc(40);
        const offsets = [
          b.writeUInt8(0xab, 0), b.writeUInt16LE(0x1234, 1), b.writeUInt16BE(0x1234, 3), b.writeUInt32LE(0xdeadbeef, 5),
          b.writeInt32BE(-2, 9), b.writeIntLE(-123456, 13, 3), b.writeBigUInt64BE(0x0102030405060708n, 16),
          b.writeIntBE(-(2 ** 47), 24, 6), b.writeUIntLE(2 ** 40 - 3, 30, 5), b.writeInt16LE(-1.5, 35), b.writeUint8(1.9, 37),
          b.writeInt8(-1, 38), b.writeUInt8(NaN, 39),
        ];
        return [offsets, b.toString("hex"), Buffer.alloc(8).writeBigInt64LE(-2n), Buffer.from(Buffer.alloc(8).fill(0xff)).readBigInt64LE()];
      });
      check("bigIntRoundTrip", () => {
        const b = Buffer.alloc(16);
        b.writeBigInt64LE(-1234567890123456789n, 0);
        b.writeBigInt64BE(9223372036854775807n, 8);
        return [b.toString("hex"), b.readBigInt64LE(0), b.readBigInt64BE(8), b.readBigUInt64LE(0)];
      });"#;

/// Node v20.20.2's answer to the worker of [`NUMBERS`].
const NUMBERS_NODE: &str = r#"{
  "compare": [-1, 1, 0, -1, 0, 0, -1, 0, 0, -1, ["a", "ab", "b"], true, true, false, true, true, -1, -1, 1],
  "equalsString": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"otherBuffer\" argument must be an instance of Buffer or Uint8Array. Received type string ('abc')"},
  "compareString": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"buf2\" argument must be an instance of Buffer or Uint8Array. Received type string ('a')"},
  "compareRange": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"targetEnd\" is out of range. It must be >= 0 && <= 3. Received 10"},
  "compareTarget": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"target\" argument must be an instance of Buffer or Uint8Array. Received an instance of Array"},
  "readUInt32BE": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 0. Received 10"},
  "readUInt32LEShort": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "Attempt to access memory outside buffer bounds"},
  "readUInt8Negative": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 15. Received -1"},
  "readFraction": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be an integer. Received 1.5"},
  "readString": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"offset\" argument must be of type number. Received type string ('1')"},
  "readNaN": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be an integer. Received NaN"},
  "readBig": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "Attempt to access memory outside buffer bounds"},
  "readBigOffset": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 8. Received 9"},
  "readUIntLE7": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"byteLength\" is out of range. It must be >= 1 and <= 6. Received 7"},
  "readIntBEFraction": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"byteLength\" is out of range. It must be an integer. Received 1.5"},
  "readUIntLENoOffset": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"offset\" argument must be of type number. Received undefined"},
  "readDouble": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "Attempt to access memory outside buffer bounds"},
  "writeUInt8Value": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0 and <= 255. Received 300"},
  "writeUInt8Offset": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 3. Received 10"},
  "writeInt8Value": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= -128 and <= 127. Received -129"},
  "writeUInt32Value": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0 and <= 4294967295. Received 4294967296"},
  "writeInt32Value": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= -2147483648 and <= 2147483647. Received -2147483649"},
  "writeInt16Value": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= -32768 and <= 32767. Received 40000"},
  "writeUInt16Offset": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 6. Received 7"},
  "writeIntLE48": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= -(2 ** 47) and < 2 ** 47. Received 140_737_488_355_328"},
  "writeUIntBE48": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0 and < 2 ** 48. Received 281_474_976_710_656"},
  "writeUIntLE40": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0 and < 2 ** 40. Received -1"},
  "writeUIntLEByteLength": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"byteLength\" is out of range. It must be >= 1 and <= 6. Received 0"},
  "writeOffset": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 4. Received 5"},
  "writeOffsetNegative": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be >= 0 and <= 4. Received -1"},
  "writeDoubleShort": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "Attempt to access memory outside buffer bounds"},
  "writeFloatFraction": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be an integer. Received 0.5"},
  "writeBigInt": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= -(2n ** 63n) and < 2n ** 63n. Received 9_223_372_036_854_775_808n"},
  "writeBigUInt": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0n and < 2n ** 64n. Received -1n"},
  "writeBigUIntBig": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"value\" is out of range. It must be >= 0n and < 2n ** 64n. Received 18_446_744_073_709_551_616n"},
  "writeBigNumber": ["TypeError", null],
  "readUnsigned": [128, 32895, 32640, 873660414, 4278129204, 20890695794433, 1647136669458, 8323328, 547625041682, "2455008111331276886n", "6230900220451885346n", 256, "3752342908095627520n", 0],
  "readSigned": [-128, -2, -257, -98177, 2139160319, 223657066112, -545477684684, 132311636180990, -65774, "3752342908095627520n", "-72319053016294724n", "2455008111331276886n", "421666987381300n"],
  "floats": [4, 12, 16, 24, "0000c03fbfb999999999999a7f7fc99e0000000000000080", 1.5, -0.1, 3.3999999521443642e+38, "-0", 6.896490392174587e-41, -1.5423487136676073e-180, "NaN", null],
  "writeIntegers": [[1, 3, 5, 9, 13, 16, 24, 30, 35, 37, 38, 39, 40], "ab34121234efbeaddefffffffec01dfe0102030405060708800000000000fdffffffffffff01ff00", 8, "-1n"],
  "bigIntRoundTrip": ["eb7e16820befddee7fffffffffffffff", "-1234567890123456789n", "9223372036854775807n", "17212176183586094827n"]
}"#;

/// indexOf/lastIndexOf/includes: offsets, encodings, empty needles, UTF-16 alignment, and buffers
/// past 64 KB (where the search runs natively over windows of the buffer).
const SEARCH: &str = r#"      check("search", () => {
        const b = Buffer.from("this is a buffer, a buffer");
        return [b.indexOf("buffer"), b.lastIndexOf("buffer"), b.indexOf(0x61), b.indexOf(Buffer.from("a b")), b.includes("is a"),
          b.indexOf("buffer", 11), b.indexOf("zz"), b.indexOf("6275", 0, "hex"), b.indexOf("YnVm", "base64"), b.lastIndexOf("a", -8),
          b.indexOf(0x62 + 256), b.indexOf(98, -5), b.lastIndexOf(98, -30), b.indexOf(98, 1.5), b.lastIndexOf("buffer", 15),
          b.lastIndexOf("buffer", 0), b.indexOf(""), b.indexOf("", 100), b.lastIndexOf(""), b.includes(""), b.indexOf(new Uint8Array([0x69, 0x73]), 3),
          b.indexOf("is", -22), b.lastIndexOf(Buffer.from("is"), 4), b.indexOf("zz", "hex"), b.indexOf("\u0161", "latin1"),
          Buffer.from("ab€cd").indexOf("€"), Buffer.from("ab€cd").lastIndexOf("c"), Buffer.from("aaaa").lastIndexOf("aa"), Buffer.from("aaaa").indexOf("aa", 3)];
      });
      check("searchUtf16", () => {
        const b = Buffer.from("abcabc", "ucs2");
        return [b.indexOf("b", 0, "ucs2"), b.lastIndexOf("c", undefined, "utf16le"), b.indexOf("bc", 3, "ucs2"),
          Buffer.from([0, 0x61, 0, 0x62, 0]).indexOf("\u6200", "ucs2"), Buffer.from([0x61, 0x62, 0x61, 0x62]).indexOf("\u6261", "ucs2"),
          Buffer.from([0, 0x61, 0x62, 0]).indexOf("\u6261", "ucs2"), b.indexOf(Buffer.from("c", "ucs2"), 0, "ucs2"), b.includes("ca", "ucs2")];
      });
      check("searchLarge", () => {
        // Past 64 KB, with many false starts: the native search over windows of the buffer.
        const hay = Buffer.concat([Buffer.alloc(70000, "ab"), Buffer.from("abc"), Buffer.alloc(70000, "ab"), Buffer.from("abc"), Buffer.alloc(2000, "ab")]);
        const u16 = Buffer.concat([Buffer.alloc(70000, "a\0b\0", "latin1"), Buffer.from("abc", "ucs2"), Buffer.alloc(70000, "a\0b\0", "latin1")]);
        const odd = Buffer.concat([Buffer.from([0]), Buffer.alloc(20000, "x\0", "latin1"), Buffer.from("yz", "ucs2")]);
        return [hay.indexOf("abc"), hay.lastIndexOf("abc"), hay.indexOf("abc", 70004), hay.lastIndexOf("abc", 70002), hay.indexOf("abd"),
          hay.lastIndexOf("abd"), hay.indexOf(Buffer.alloc(20000, "ba")), hay.lastIndexOf("bab"), hay.lastIndexOf("bca"), hay.includes("cab"),
          u16.indexOf("bc", 0, "ucs2"), u16.lastIndexOf("ab", undefined, "ucs2"), u16.indexOf("ca", "ucs2"), u16.lastIndexOf("ca", 100000, "ucs2"),
          odd.indexOf("yz", "ucs2"), odd.lastIndexOf("xy", undefined, "ucs2"), odd.indexOf(Buffer.from("yz", "ucs2")), odd.lastIndexOf("x", "ucs2")];
      });
      for (const [name, f] of [
        ["searchObject", () => Buffer.from("abc").indexOf({})],
        ["searchEncoding", () => Buffer.from("abc").indexOf("a", 0, "nope")],
      ]) check(name, f);"#;

/// Node v20.20.2's answer to the worker of [`SEARCH`].
const SEARCH_NODE: &str = r#"{
  "search": [10, 20, 8, 8, true, 20, -1, 10, 10, 18, 10, -1, -1, 10, 10, -1, 0, 26, 26, true, 5, 5, 2, 0, 8, 2, 5, 2, -1],
  "searchUtf16": [2, 10, 2, 2, 0, -1, 4, true],
  "searchLarge": [70000, 140003, 140003, 70000, -1, -1, 1, 142003, 140004, true, 70002, 140002, 70004, 70004, -1, -1, 20001, -1],
  "searchObject": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"value\" argument must be one of type number or string or an instance of Buffer or Uint8Array. Received an instance of Object"},
  "searchEncoding": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: nope"}
}"#;

/// A broad sample of the rest: from, toString ranges, slice/subarray, fill, swap, concat, copy
/// (overlapping), toJSON, util.inspect, the statics, isUtf8/isAscii, the `*Slice`/`*Write`
/// methods, and conversions of 20 KB.
const API: &str = r#"      // A broad sample of the rest.
      check("fromVariants", () => {
        const ab = new Uint8Array([1, 2, 3, 4]).buffer;
        const view = Buffer.from(ab, 1, 2);
        new Uint8Array(ab)[1] = 9;
        return [view.toString("hex"), Buffer.from(Buffer.from("x")).toString(), Buffer.from({ length: 2, 0: 65, 1: 66 }).toString(),
          Buffer.from(new Uint16Array([1, 256])).toString("hex"), Buffer.from([257, -1, "3", 1.7]).toString("hex"),
          Buffer.from({ type: "Buffer", data: [104, 105] }).toString(), Buffer.from(new String("str")).toString(),
          Buffer.from("", "hex").length, Buffer.from("ab", "").toString(), Buffer.from(ab).length, Buffer.from(ab, 2).toString("hex")];
      });
      for (const [name, f] of [
        ["fromNumber", () => Buffer.from(5)],
        ["fromObject", () => Buffer.from({})],
        ["fromNull", () => Buffer.from(null)],
        ["fromEncoding", () => Buffer.from("ab", "nope")],
        ["fromOffset", () => Buffer.from(new ArrayBuffer(4), 5)],
        ["fromLength", () => Buffer.from(new ArrayBuffer(4), 1, 5)],
        ["allocNegative", () => codeOnly(() => Buffer.alloc(-1))],
        ["allocString", () => Buffer.alloc("5")],
        ["toStringEmptyEncoding", () => Buffer.from("ab").toString("")],
        ["toStringNull", () => Buffer.from("ab").toString(null)],
        ["toStringUnknown", () => Buffer.from("ab").toString("utf9")],
      ]) check(name, f);
      check("toStringRange", () => [
        Buffer.from("hello world").toString("utf8", 6), Buffer.from("hello world").toString("hex", 1, 3),
        Buffer.from(text).toString("latin1", 0, 4), Buffer.from("abcdef").toString("utf8", -1, 2), Buffer.from("abcdef").toString("utf8", 1.7, 3.9),
        Buffer.from("abcdef").toString(undefined, 2), Buffer.from("abcdef").toString("hex", "1", "3"), Buffer.from("abcdef").toString("utf8", 4, 2),
        Buffer.from("abcdef").toString("UTF-8", 0, 100), Buffer.alloc(0).toString("hex"),
      ]);
      check("sliceAndSubarray", () => {
        const b = Buffer.from("abcdef");
        const s = b.subarray(1, 4);
        s[0] = 0x42;
        return [b.toString(), b.slice(-2).toString(), s.toString(), b.subarray(4, 2).length, b.slice(1.5, -1.5).toString(),
          b.slice("2").toString(), b.slice(NaN, 2).toString(), b.subarray(-2).toString(), b.slice(2, 2 ** 40).toString(),
          Buffer.isBuffer(b.slice(1)), Buffer.isBuffer(b.subarray(1)), b.slice(1).buffer === b.buffer];
      });
      check("fill", () => [
        Buffer.alloc(5, "ab").toString(), Buffer.alloc(4).fill(0x41, 1, 3).toString("hex"), Buffer.alloc(6, "YWI=", "base64").toString(),
        Buffer.alloc(3, 257).toString("hex"), Buffer.alloc(4).fill("é").toString("hex"), Buffer.alloc(5).fill(Buffer.from([1, 2])).toString("hex"),
        Buffer.alloc(4).fill(new Uint16Array([0x0102])).toString("hex"), Buffer.alloc(3).fill("\u0101", "latin1").toString("hex"),
        Buffer.alloc(5).fill("ab", 1, 4).toString("hex"), Buffer.alloc(2).fill(true).toString("hex"), Buffer.alloc(2).fill(-1.5).toString("hex"),
        Buffer.alloc(7).fill("abc", 1).toString("hex"), Buffer.alloc(4).fill("").toString("hex"), Buffer.alloc(6).fill("e282ac", "hex").toString(),
        Buffer.alloc(5, "xyz", "ucs2").toString("hex"), Buffer.alloc(1000, "0123456789").toString("latin1", 990),
      ]);
      for (const [name, f] of [
        ["fillInvalid", () => Buffer.alloc(4).fill("zz", "hex")],
        ["fillEncoding", () => Buffer.alloc(4).fill("a", "nope")],
        ["fillEncodingType", () => Buffer.alloc(4).fill("a", 0, 4, 5)],
        ["fillEnd", () => Buffer.alloc(4).fill(1, 0, 5)],
        ["fillOffset", () => codeOnly(() => Buffer.alloc(4).fill(1, -1))],
        ["fillOffsetFraction", () => Buffer.alloc(4).fill(1, 0.5)],
      ]) check(name, f);
      check("swap", () => [Buffer.from("0102030405060708", "hex").swap16().toString("hex"),
        Buffer.from("0102030405060708", "hex").swap32().toString("hex"), Buffer.from("0102030405060708", "hex").swap64().toString("hex")]);
      check("swapOdd", () => Buffer.alloc(3).swap16());
      check("swap64Odd", () => Buffer.alloc(12).swap64());
      check("concat", () => [
        Buffer.concat([Buffer.from("ab"), new Uint8Array([0x63]), Buffer.alloc(0), Buffer.from("de")]).toString(),
        Buffer.concat([Buffer.from("abcdef")], 3).toString(), Buffer.concat([Buffer.from("ab")], 4).toString("hex"),
        Buffer.concat([]).length, Buffer.concat([Buffer.from("ab"), Buffer.from("cd")], 3).toString(), Buffer.isBuffer(Buffer.concat([new Uint8Array(1)])),
      ]);
      for (const [name, f] of [
        ["concatItem", () => Buffer.concat([Buffer.from("a"), "b"])],
        ["concatList", () => Buffer.concat("ab")],
        ["concatLength", () => codeOnly(() => Buffer.concat([Buffer.from("a")], -1))],
      ]) check(name, f);
      check("copy", () => {
        const b = Buffer.from("abcdefgh");
        const copied = b.copy(b, 2, 0, 5);
        const c = Buffer.from("abcdefgh");
        c.copy(c, 0, 3);
        const t = Buffer.alloc(6, ".");
        return [copied, b.toString(), c.toString(), Buffer.from("abc").copy(Buffer.alloc(2)), Buffer.from("abc").copy(Buffer.alloc(5), 4),
          Buffer.from("abc").copy(Buffer.alloc(5), 10), Buffer.from("abc").copy(Buffer.alloc(5), 0, 1, 10), Buffer.from("xyz").copy(t, 1.7, 0.5),
          t.toString(), Buffer.from("abc").copy(new Uint8Array(3), "1"), Buffer.from("abc").copy(Buffer.alloc(3), 0, 2, 1)];
      });
      for (const [name, f] of [
        ["copyTargetStart", () => Buffer.from("abc").copy(Buffer.alloc(3), -1)],
        ["copySourceStart", () => Buffer.from("abc").copy(Buffer.alloc(3), 0, 5)],
        ["copySourceEnd", () => Buffer.from("abc").copy(Buffer.alloc(3), 0, 0, -1)],
        ["compareOffsetLimit", () => codeOnly(() => Buffer.from("abc").compare(Buffer.from("abc"), -1))],
        ["copyTarget", () => Buffer.from("abc").copy([])],
      ]) check(name, f);
      check("json", () => [JSON.stringify(Buffer.from("hi")), JSON.stringify(Buffer.alloc(0)), JSON.stringify({ b: Buffer.from([1, 2]) })]);
      check("inspect", () => {
        const long = Buffer.alloc(52);
        long[0] = 0xab;
        return [inspect(Buffer.from("hi")), inspect(Buffer.alloc(0)), inspect(long), inspect(Buffer.alloc(51)), inspect({ x: Buffer.from("ab") }),
          inspect([Buffer.from([255])]), Buffer.from("ok").inspect()];
      });
      check("statics", () => [Buffer.isBuffer(Buffer.alloc(1)), Buffer.isBuffer(new Uint8Array(1)), Buffer.isEncoding("UTF-8"),
        Buffer.isEncoding("nope"), Buffer.isEncoding(""), Buffer.isEncoding("BASE64URL"), Buffer.isEncoding(null), Buffer.isEncoding("Latin1"),
        Buffer.poolSize, typeof buffer.kMaxLength, buffer.constants.MAX_STRING_LENGTH, buffer.kStringMaxLength, buffer.INSPECT_MAX_BYTES,
        Buffer.alloc(3) instanceof Uint8Array, Buffer.alloc(3) instanceof Buffer, Buffer.allocUnsafe(3).length, Buffer.allocUnsafeSlow(2).length,
        Buffer.of(1, 2).toString("hex"), typeof buffer.atob, typeof buffer.Blob, buffer.Buffer === Buffer, buffer.default === undefined ? "none" : typeof buffer.default]);
      check("utf8Checks", () => [buffer.isUtf8(Buffer.from(text)), buffer.isUtf8(Buffer.from([0xc3, 0x28])), buffer.isAscii(Buffer.from("abc")),
        buffer.isAscii(Buffer.from(text)), buffer.isUtf8(new ArrayBuffer(2)), buffer.isAscii(new Uint16Array([0x7f7f])), buffer.isAscii(Buffer.from(text).subarray(0, 1))]);
      check("isUtf8Bad", () => buffer.isUtf8("abc"));
      check("sliceMethods", () => {
        const b = Buffer.from("héllo");
        return [b.utf8Slice(1, 3), b.latin1Slice(0, 2), b.hexSlice(1), b.asciiSlice(), b.base64Slice(0, 3), b.base64urlSlice(), b.ucs2Slice(0, 4),
          b.utf8Slice(3, 1), Buffer.alloc(0).hexSlice(5, 9)];
      });
      check("sliceMethodRange", () => Buffer.from("abc").latin1Slice(0, 5));
      check("writeMethods", () => {
        const b = Buffer.alloc(8);
        return [b.utf8Write("€€", 1), b.latin1Write("ÿ", 0), b.hexWrite("abcd", 6), b.asciiWrite("xyz", 5, 1), b.ucs2Write("q"),
          b.base64Write("AAEC", 4, 3), b.base64urlWrite("-_8", 7), b.toString("hex"), b.utf8Write("abc", 8)];
      });
      check("writeMethodOffset", () => Buffer.alloc(2).utf8Write("a", 3));
      check("iteration", () => [[...Buffer.from("ab")], [...Buffer.from("ab").entries()], Buffer.from("ab").at(-1), Buffer.from("abc").map((x) => x + 1).toString()]);
      check("large", () => {
        const pattern = Buffer.alloc(251);
        for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 2654435761) >>> 24;
        const big = Buffer.alloc(20001, pattern);
        const u16 = Buffer.from(Buffer.from("h€llo 𝄞 ".repeat(500)).toString("ucs2"), "ucs2");
        return ["hex", "base64", "base64url", "latin1", "ucs2"].map((e) => Buffer.from(big.toString(e), e).equals(big))
          .concat([big.subarray(1).toString("hex").length, Buffer.from("h€llo 𝄞 ".repeat(500)).toString().length, u16.length,
            Buffer.compare(big, Buffer.from(big)), big.indexOf(big.subarray(15000, 15010)), Buffer.byteLength("h€llo".repeat(1000)),
            big.toString("hex").slice(39990), big.toString("base64").slice(-20)]);
      });"#;

/// Node v20.20.2's answer to the worker of [`API`].
const API_NODE: &str = r#"{
  "fromVariants": ["0903", "x", "AB", "0100", "01ff0301", "hi", "str", 0, "ab", 4, "0304"],
  "fromNumber": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received type number (5)"},
  "fromObject": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received an instance of Object"},
  "fromNull": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received null"},
  "fromEncoding": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: nope"},
  "fromOffset": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "\"offset\" is outside of buffer bounds"},
  "fromLength": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "\"length\" is outside of buffer bounds"},
  "allocNegative": ["RangeError", "ERR_OUT_OF_RANGE"],
  "allocString": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"size\" argument must be of type number. Received type string ('5')"},
  "toStringEmptyEncoding": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: "},
  "toStringNull": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: null"},
  "toStringUnknown": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: utf9"},
  "toStringRange": ["world", "656c", "hÃ©l", "ab", "bc", "cdef", "6263", "", "abcdef", ""],
  "sliceAndSubarray": ["aBcdef", "ef", "Bcd", 0, "Bcde", "cdef", "aB", "ef", "cdef", true, true, true],
  "fill": ["ababa", "00414100", "ababab", "010101", "c3a9c3a9", "0102010201", "02010201", "010101", "0061626100", "0101", "ffff", "00616263616263", "00000000", "€€", "780079007a", "0123456789"],
  "fillInvalid": {"error": "TypeError", "code": "ERR_INVALID_ARG_VALUE", "message": "The argument 'value' is invalid. Received 'zz'"},
  "fillEncoding": {"error": "TypeError", "code": "ERR_UNKNOWN_ENCODING", "message": "Unknown encoding: nope"},
  "fillEncodingType": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"encoding\" argument must be of type string. Received type number (5)"},
  "fillEnd": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"end\" is out of range. It must be >= 0 && <= 4. Received 5"},
  "fillOffset": ["RangeError", "ERR_OUT_OF_RANGE"],
  "fillOffsetFraction": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"offset\" is out of range. It must be an integer. Received 0.5"},
  "swap": ["0201040306050807", "0403020108070605", "0807060504030201"],
  "swapOdd": {"error": "RangeError", "code": "ERR_INVALID_BUFFER_SIZE", "message": "Buffer size must be a multiple of 16-bits"},
  "swap64Odd": {"error": "RangeError", "code": "ERR_INVALID_BUFFER_SIZE", "message": "Buffer size must be a multiple of 64-bits"},
  "concat": ["abcde", "abc", "61620000", 0, "abc", true],
  "concatItem": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"list[1]\" argument must be an instance of Buffer or Uint8Array. Received type string ('b')"},
  "concatList": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"list\" argument must be an instance of Array. Received type string ('ab')"},
  "concatLength": ["RangeError", "ERR_OUT_OF_RANGE"],
  "copy": [5, "ababcdeh", "defghfgh", 2, 1, 0, 2, 3, ".xyz..", 2, 0],
  "copyTargetStart": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"targetStart\" is out of range. It must be >= 0. Received -1"},
  "copySourceStart": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"sourceStart\" is out of range. It must be >= 0 && <= 3. Received 5"},
  "copySourceEnd": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "The value of \"sourceEnd\" is out of range. It must be >= 0. Received -1"},
  "compareOffsetLimit": ["RangeError", "ERR_OUT_OF_RANGE"],
  "copyTarget": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"target\" argument must be an instance of Buffer or Uint8Array. Received an instance of Array"},
  "json": ["{\"type\":\"Buffer\",\"data\":[104,105]}", "{\"type\":\"Buffer\",\"data\":[]}", "{\"b\":{\"type\":\"Buffer\",\"data\":[1,2]}}"],
  "inspect": ["<Buffer 68 69>", "<Buffer >", "<Buffer ab 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ... 2 more bytes>", "<Buffer 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ... 1 more byte>", "{ x: <Buffer 61 62> }", "[ <Buffer ff> ]", "<Buffer 6f 6b>"],
  "statics": [true, false, true, false, false, true, false, true, 8192, "number", 536870888, 536870888, 50, true, true, 3, 2, "0102", "function", "function", true, "object"],
  "utf8Checks": [true, false, true, false, true, true, true],
  "isUtf8Bad": {"error": "TypeError", "code": "ERR_INVALID_ARG_TYPE", "message": "The \"input\" argument must be an instance of ArrayBuffer, Buffer, or TypedArray. Received type string ('abc')"},
  "sliceMethods": ["é", "hÃ", "c3a96c6c6f", "hC)llo", "aMOp", "aMOpbGxv", "써沩", "", ""],
  "sliceMethodRange": {"error": "RangeError", "code": "ERR_OUT_OF_RANGE", "message": "Index out of range"},
  "writeMethods": [6, 1, 2, 1, 2, 3, 1, "710082ac000102fb", 0],
  "writeMethodOffset": {"error": "RangeError", "code": "ERR_BUFFER_OUT_OF_BOUNDS", "message": "\"offset\" is outside of buffer bounds"},
  "iteration": [[97, 98], [[0, 97], [1, 98]], 98, "bcd"],
  "large": [true, true, true, true, false, 40000, 4500, 6500, 0, 191, 7000, "9736d47210af", "CKZE4oAfvVv5lzbUchCv"]
}"#;

/// The worker: PRELUDE, then a fetch handler answering `checks`.
fn worker_source(checks: &str) -> String {
  format!("{PRELUDE}\nexport default {{\n  fetch: () =>\n    answer((check) => {{\n{checks}\n    }}),\n}};\n")
}

/// Serves `checks` and compares its answer with Node's, listing every check that differs.
async fn assert_answers_as_node(name: &str, checks: &str, node: &str) {
  let answer = node_answer(name, &worker_source(checks)).await;
  let expected: serde_json::Value = serde_json::from_str(node).expect("Node's answer is JSON");
  let (answer, expected) = (answer.as_object().unwrap(), expected.as_object().unwrap());
  let mut differences: Vec<String> = expected
    .iter()
    .filter(|(check, value)| answer.get(*check) != Some(value))
    .map(|(check, value)| {
      format!("{check}:\n  edge {}\n  node {value}", answer.get(check).unwrap_or(&serde_json::Value::Null))
    })
    .collect();
  differences.extend(
    answer
      .keys()
      .filter(|check| !expected.contains_key(*check))
      .map(|check| format!("{check}: not in Node's answer")),
  );
  assert!(
    differences.is_empty(),
    "{} of {} checks differ from Node:\n{}",
    differences.len(),
    expected.len(),
    differences.join("\n")
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_encode_and_decode_as_node_does() {
  assert_answers_as_node("buffer-strings", STRINGS, STRINGS_NODE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_the_readers_and_writers_answer_as_node_does() {
  assert_answers_as_node("buffer-numbers", NUMBERS, NUMBERS_NODE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexof_finds_what_node_finds() {
  assert_answers_as_node("buffer-search", SEARCH, SEARCH_NODE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_of_the_buffer_api_answers_as_node_does() {
  assert_answers_as_node("buffer-api", API, API_NODE).await;
}
