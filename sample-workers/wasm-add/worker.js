// A JavaScript worker that imports a WebAssembly module of its own bundle.
import addModule from "./add.wasm";

const { exports } = new WebAssembly.Instance(addModule, {});

export default {
  fetch(request) {
    const url = new URL(request.url);
    const a = Number(url.searchParams.get("a") ?? 2);
    const b = Number(url.searchParams.get("b") ?? 3);
    return new Response(`${a} + ${b} = ${exports.add(a, b)}\n`);
  },
};
