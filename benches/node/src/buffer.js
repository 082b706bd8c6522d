// Buffer: encodings in and out, concat, the fixed-width readers and writers, compare, search,
// base64url, and the edges of decoding (invalid UTF-8, odd hex, loose base64).

import * as buffer from "node:buffer";

const { Buffer } = buffer;
import { run } from "./report.js";

const text = "héllo wörld € 𝄞";
const encodings = ["utf8", "utf-8", "utf16le", "ucs2", "latin1", "binary", "ascii", "hex", "base64", "base64url"];

export function bufferChecks() {
  const bytes = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22]);
  return run({
    encodeEach: () => Object.fromEntries(encodings.map((e) => [e, Buffer.from(text, e).toString("hex")])),
    decodeEach: () => Object.fromEntries(encodings.map((e) => [e, bytes.toString(e)])),
    byteLength: () => Object.fromEntries(encodings.map((e) => [e, Buffer.byteLength(text, e)])),
    roundTrip: () =>
      Object.fromEntries(encodings.map((e) => [e, Buffer.from(Buffer.from(text).toString(e), e).toString()])),
    base64url: () => [
      Buffer.from("subjects?_d>>>").toString("base64url"),
      Buffer.from("subjects?_d>>>").toString("base64"),
      Buffer.from("c3ViamVjdHM_X2Q-Pj4", "base64url").toString(),
      Buffer.from("c3ViamVjdHM/X2Q+Pj4=", "base64url").toString(),
      Buffer.from("c3ViamVjdHM_X2Q-Pj4", "base64").toString(),
    ],
    looseBase64: () => [
      Buffer.from("aGVs bG8=\n", "base64").toString(),
      Buffer.from("aGVsbG8", "base64").toString(),
      Buffer.from("aGVsbG8===", "base64").toString(),
      Buffer.from("a", "base64").length,
    ],
    oddHex: () => [Buffer.from("abc", "hex").toString("hex"), Buffer.from("zz12", "hex").length, Buffer.from("12zz34", "hex").toString("hex")],
    invalidUtf8: () => Buffer.from([0x61, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xf0, 0x9f, 0x98, 0x62]).toString(),
    loneSurrogates: () => [Buffer.from("a\ud800b").toString("hex"), Buffer.from("\udc00").toString("hex")],
    concat: () => [
      Buffer.concat([Buffer.from("ab"), new Uint8Array([0x63]), Buffer.alloc(0), Buffer.from("de")]).toString(),
      Buffer.concat([Buffer.from("abcdef")], 3).toString(),
      Buffer.concat([Buffer.from("ab")], 4).toString("hex"),
      Buffer.concat([]).length,
    ],
    readUnsigned: () => [
      bytes.readUInt8(3), bytes.readUInt16LE(2), bytes.readUInt16BE(2), bytes.readUInt32LE(4),
      bytes.readUInt32BE(4), bytes.readUIntLE(1, 6), bytes.readUIntBE(1, 6), bytes.readBigUInt64LE(8),
      bytes.readBigUInt64BE(8), bytes.readUint16LE(0),
    ],
    readSigned: () => [
      bytes.readInt8(3), bytes.readInt16LE(4), bytes.readInt16BE(4), bytes.readInt32LE(2),
      bytes.readInt32BE(2), bytes.readIntLE(3, 5), bytes.readIntBE(3, 5), bytes.readBigInt64LE(0),
      bytes.readBigInt64BE(4),
    ],
    readFloat: () => {
      const b = Buffer.alloc(12);
      b.writeFloatLE(1.5, 0);
      b.writeDoubleBE(-0.1, 4);
      return [b.toString("hex"), b.readFloatLE(0), b.readDoubleBE(4), b.readFloatBE(0)];
    },
    write: () => {
      const b = Buffer.alloc(24);
      const offsets = [
        b.writeUInt8(0xab, 0), b.writeUInt16LE(0x1234, 1), b.writeUInt16BE(0x1234, 3), b.writeUInt32LE(0xdeadbeef, 5),
        b.writeInt32BE(-2, 9), b.writeIntLE(-123456, 13, 3), b.writeBigUInt64BE(0x0102030405060708n, 16),
      ];
      return [offsets, b.toString("hex")];
    },
    outOfRange: () => {
      const errors = [];
      for (const f of [() => bytes.readUInt32LE(14), () => Buffer.alloc(1).writeUInt8(256, 0), () => bytes.readUInt8(-1)]) {
        try {
          f();
          errors.push("no error");
        } catch (error) {
          errors.push([error.name, error.code]);
        }
      }
      return errors;
    },
    compare: () => [
      Buffer.compare(Buffer.from("abc"), Buffer.from("abd")), Buffer.compare(Buffer.from("b"), Buffer.from("abc")),
      Buffer.from("abc").compare(Buffer.from("abc")), Buffer.from("abcdef").compare(Buffer.from("cd"), 0, 2, 2, 4),
      [Buffer.from("b"), Buffer.from("a"), Buffer.from("ab")].sort(Buffer.compare).map(String),
      Buffer.from("abc").equals(Buffer.from("abc")), Buffer.from("abc").equals(new Uint8Array([97, 98, 99])),
    ],
    search: () => {
      const b = Buffer.from("this is a buffer, a buffer");
      return [b.indexOf("buffer"), b.lastIndexOf("buffer"), b.indexOf(0x61), b.indexOf(Buffer.from("a b")),
        b.includes("is a"), b.indexOf("buffer", 11), b.indexOf("zz"), b.indexOf("6275", 0, "hex")];
    },
    sliceAndSubarray: () => {
      const b = Buffer.from("abcdef");
      const s = b.subarray(1, 4);
      s[0] = 0x42;
      return [b.toString(), b.slice(-2).toString(), s.toString(), b.subarray(4, 2).length];
    },
    fill: () => [Buffer.alloc(5, "ab").toString(), Buffer.alloc(4).fill(0x41, 1, 3).toString("hex"),
      Buffer.alloc(6, "YWI=", "base64").toString(), Buffer.alloc(3, 257).toString("hex")],
    swap: () => [Buffer.from("0102030405060708", "hex").swap16().toString("hex"),
      Buffer.from("0102030405060708", "hex").swap32().toString("hex"),
      Buffer.from("0102030405060708", "hex").swap64().toString("hex")],
    fromVariants: () => {
      const ab = new Uint8Array([1, 2, 3, 4]).buffer;
      const view = Buffer.from(ab, 1, 2);
      new Uint8Array(ab)[1] = 9;
      return [view.toString("hex"), Buffer.from(Buffer.from("x")).toString(), Buffer.from({ length: 2, 0: 65, 1: 66 }).toString(),
        Buffer.from(new Uint16Array([1, 256])).toString("hex"), Buffer.from("aGk=", "base64").toString()];
    },
    json: () => JSON.stringify(Buffer.from("hi")),
    statics: () => [Buffer.isBuffer(Buffer.alloc(1)), Buffer.isBuffer(new Uint8Array(1)), Buffer.isEncoding("UTF-8"),
      Buffer.isEncoding("nope"), Buffer.poolSize, typeof buffer.kMaxLength, buffer.constants.MAX_STRING_LENGTH > 0,
      Buffer.alloc(3) instanceof Uint8Array],
    utf8Checks: () => [buffer.isUtf8(Buffer.from(text)), buffer.isUtf8(Buffer.from([0xc3, 0x28])), buffer.isAscii(Buffer.from("abc")),
      buffer.isAscii(Buffer.from(text))],
    toStringRange: () => [Buffer.from("hello world").toString("utf8", 6), Buffer.from("hello world").toString("hex", 1, 3),
      Buffer.from(text).toString("latin1", 0, 4)],
    writeString: () => {
      const b = Buffer.alloc(8);
      return [b.write("héllo", 1), b.write("ff00", 6, "hex"), b.write("€€", 0, 2), b.toString("hex")];
    },
    iteration: () => [[...Buffer.from("ab")], [...Buffer.from("ab").entries()], Buffer.from("ab").at(-1)],
  });
}
