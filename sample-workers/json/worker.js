// Parses the URL and answers with a JSON object of 50 keys.
export default {
  fetch(request) {
    const url = new URL(request.url);
    const body = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      method: request.method,
    };
    for (let i = 0; i < 47; i++) {
      body[`key${i}`] = { index: i, even: i % 2 === 0, label: `value number ${i}` };
    }
    return Response.json(body);
  },
};
