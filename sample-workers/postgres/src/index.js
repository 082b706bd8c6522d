// A notes API on PostgreSQL, through the `postgres` driver: its Cloudflare build connects with
// `connect()` of cloudflare:sockets, authenticates with SCRAM and upgrades to TLS when the URL
// asks (`sslmode=require`), checked against the roots the node trusts.
//
//   GET  /          the notes, newest first (`?q=` filters by text)
//   POST /          adds the request body as a note, with its tags (`?tags=a,b`), in one
//                   transaction; a duplicate note is 409
import postgres from "postgres";

let sql;
let ready;

// One client per isolate: its connection serves the next requests too.
function database(env) {
  sql ??= postgres(env.DATABASE_URL, { max: 1, idle_timeout: 60 });
  ready ??= sql`
    create table if not exists notes (
      id serial primary key,
      text text unique not null,
      tags text[] not null default '{}',
      created timestamptz not null default now()
    )`.catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready.then(() => sql);
}

export default {
  async fetch(request, env) {
    if (!env.DATABASE_URL) return new Response("set DATABASE_URL (see .dev.vars.example)\n", { status: 500 });
    const db = await database(env);
    const url = new URL(request.url);
    if (request.method === "POST") {
      const text = (await request.text()).trim();
      if (!text) return new Response("a note needs text\n", { status: 400 });
      const tags = (url.searchParams.get("tags") ?? "").split(",").filter(Boolean);
      try {
        const note = await db.begin(async (tx) => {
          const [note] = await tx`insert into notes (text) values (${text}) returning id, text`;
          if (tags.length > 0) await tx`update notes set tags = ${tags} where id = ${note.id}`;
          return note;
        });
        return Response.json({ ...note, tags }, { status: 201 });
      } catch (error) {
        if (error.code === "23505") return new Response("that note exists already\n", { status: 409 });
        throw error;
      }
    }
    const q = url.searchParams.get("q");
    const notes = q
      ? await db`select id, text, tags from notes where text ilike ${`%${q}%`} order by id desc`
      : await db`select id, text, tags from notes order by id desc`;
    return Response.json(notes);
  },
};
