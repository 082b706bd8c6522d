export default {
  fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "GREETING";
    if (!(name in env)) return new Response(`env has no ${name}\n`, { status: 404 });
    const value = env[name];
    return typeof value === "string" ? new Response(value) : Response.json(value);
  },
};
