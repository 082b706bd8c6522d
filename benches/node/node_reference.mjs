// Node.js's own answers to the differential's requests, for reference (differential.py shows them
// beside workerd's and edge's): imports the worker's source as it is, without wrangler, and calls
// its fetch handler. Usage: node node_reference.mjs '<JSON list of groups of paths>' → JSON
// { path: [status, body] }; the groups are asked one after the other, the paths of a group at once.

import worker from "./src/index.js";

const groups = JSON.parse(process.argv[2]);
const answers = {};
for (const paths of groups) {
  await Promise.all(
    paths.map(async (path) => {
      const response = await worker.fetch(new Request(`http://node.invalid${path}`));
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      answers[path] = [response.status, body];
    }),
  );
}
process.stdout.write(JSON.stringify(answers));
