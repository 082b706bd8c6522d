export default {
  fetch() {
    return new Response("Hello from the edge!\n");
  },
};
