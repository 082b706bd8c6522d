// node:stream/promises: pipeline and finished as promises.

import stream from "node:stream";

export const { finished, pipeline } = stream.promises;
export default stream.promises;
