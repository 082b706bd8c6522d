// node:stream/consumers: reads a whole stream — a node:stream Readable, a ReadableStream or
// any async iterable of strings and bytes — into one value.

import { Buffer } from "node:buffer";

export async function blob(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new Blob(chunks);
}

export async function arrayBuffer(stream) {
  return (await blob(stream)).arrayBuffer();
}

export async function buffer(stream) {
  return Buffer.from(await arrayBuffer(stream));
}

export async function text(stream) {
  // One decoder for the whole stream: a character may be split between chunks.
  const decoder = new TextDecoder();
  let out = "";
  for await (const chunk of stream) {
    out += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  }
  return out + decoder.decode();
}

export async function json(stream) {
  return JSON.parse(await text(stream));
}

export default { arrayBuffer, blob, buffer, text, json };
