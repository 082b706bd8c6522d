// Greets the user by city and names the node that served them. The geo data arrives as
// `request.cf` when the request came through `edge router` (signed with the shared
// `geo_key`); called on a node directly, there is none.
export default {
  fetch(request) {
    const cf = request.cf ?? {};
    const where = cf.city ? `${cf.city}, ${cf.country}` : cf.country ?? "somewhere";
    const node = cf.colo ?? "a node with no router in front";
    return Response.json({
      greeting: `Hello, visitor from ${where}!`,
      servedFrom: node,
      cf,
    });
  },
};
