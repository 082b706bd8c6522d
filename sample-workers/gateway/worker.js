// Asks the `auth` worker (a service binding) whether the caller may pass, then answers.
export default {
  async fetch(request, env) {
    const verdict = await env.AUTH.fetch(request);
    if (!verdict.ok) return new Response("denied by auth\n", { status: 403 });
    const { user } = await verdict.json();
    return new Response(`Hello, ${user}: auth let you through without a network hop.\n`);
  },
};
