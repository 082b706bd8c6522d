addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  event.respondWith(new Response(`service worker saw ${event.request.method} ${url.pathname}\n`));
});
