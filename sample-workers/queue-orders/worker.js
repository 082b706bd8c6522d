// An idempotent queue consumer. Delivery is at least once: a batch whose handler threw, whose
// isolate hit a limit, or whose node died is delivered again, so a message can arrive twice.
// The handler remembers each message id in KV and skips ids it has processed: an order is
// processed once however often its message arrives.
//
//   curl -X POST http://queue-orders.edge.localhost:8080/orders -d '{"id":"A-1","total":42}'
//   curl http://queue-orders.edge.localhost:8080/orders/A-1
//   (an order with "poison": true is retried, then dead-lettered: edge queues dlq orders-dlq)
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/orders") {
      const order = await request.json().catch(() => null);
      if (typeof order?.id !== "string") {
        return Response.json({ error: 'an order is JSON with a string "id"' }, { status: 400 });
      }
      await env.ORDERS.send(order);
      return Response.json({ queued: order.id }, { status: 202 });
    }
    if (url.pathname.startsWith("/orders/")) {
      const done = await env.ORDERS_DONE.get(`order:${url.pathname.slice(8)}`, "json");
      return done ? Response.json(done) : Response.json({ error: "not processed yet" }, { status: 404 });
    }
    return new Response('POST /orders {"id": "..."} queues an order; GET /orders/<id> shows it once processed\n');
  },

  async queue(batch, env) {
    for (const message of batch.messages) {
      if (await env.ORDERS_DONE.get(`message:${message.id}`)) {
        message.ack(); // processed in an earlier delivery
        continue;
      }
      const order = message.body;
      if (order.poison) {
        message.retry({ delaySeconds: 1 }); // after max_retries: the dead-letter queue
        continue;
      }
      const done = { ...order, processedAt: new Date().toISOString(), attempts: message.attempts };
      await env.ORDERS_DONE.put(`order:${order.id}`, JSON.stringify(done));
      await env.ORDERS_DONE.put(`message:${message.id}`, "1", { expirationTtl: 4 * 24 * 3600 });
      message.ack();
    }
  },
};
