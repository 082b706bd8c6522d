// node:string_decoder: the `string_decoder` package (Node's own, for browsers).

import decoder from "string_decoder/lib/string_decoder.js";

export const { StringDecoder } = decoder;
export default decoder;
