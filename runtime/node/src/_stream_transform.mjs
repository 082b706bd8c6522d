// node:_stream_transform (Node's old name for it): node:stream's Transform.

import { Transform } from "node:stream";

export default Transform;
