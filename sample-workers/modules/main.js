import { greet } from "./lib/greet.js";
import config from "./lib/config.json";
import banner from "./lib/banner.txt";

export default {
  fetch(request) {
    const who = new URL(request.url).searchParams.get("who") ?? config.defaultName;
    return new Response(`${banner.trim()}\n${greet(who)}\n`);
  },
};
