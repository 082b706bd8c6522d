// node:string_decoder: the `string_decoder` package (Node's own, for browsers).

// node:buffer first: it gives the package's Buffer Node's encodings and their native speed.
import "node:buffer";
import decoder from "string_decoder/lib/string_decoder.js";

export const { StringDecoder } = decoder;
export default decoder;
