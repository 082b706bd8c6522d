// node:_stream_passthrough (Node's old name for it): node:stream's PassThrough.

import { PassThrough } from "node:stream";

export default PassThrough;
