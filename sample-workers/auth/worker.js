// Checks a bearer token; other workers call it through a service binding (see ../gateway).
export default {
  fetch(request, env) {
    if (request.headers.get("authorization") !== `Bearer ${env.TOKEN}`) {
      return Response.json({ ok: false }, { status: 401 });
    }
    return Response.json({ ok: true, user: "alice" });
  },
};
