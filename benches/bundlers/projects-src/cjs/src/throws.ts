// Bench project: /boom throws on line 7 of this file; the bundle's source map must say so.
import ms from "ms";
type Incoming = Request;
export default {
  fetch(request: Incoming): Response {
    if (request.url.endsWith("/boom")) {
      throw new Error("boom after " + ms(1000));
    }
    return new Response("ok");
  },
};
