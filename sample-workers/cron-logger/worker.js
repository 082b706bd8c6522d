// Logs each scheduled run and keeps it in KV; GET lists the runs it kept.
export default {
  async scheduled(controller, env) {
    console.log(`cron ${controller.cron} fired for ${new Date(controller.scheduledTime).toISOString()}`);
    await env.RUNS.put(`run/${controller.scheduledTime}`, controller.cron);
  },
  async fetch(request, env) {
    const { keys } = await env.RUNS.list({ prefix: "run/" });
    return Response.json({ runs: keys.map((key) => Number(key.name.slice(4))) });
  },
};
