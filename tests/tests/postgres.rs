//! A worker that talks to a real PostgreSQL (Debian's, started on loopback by the test) with
//! the `postgres` npm driver (porsager/postgres 4.2.0, from `tests/npm`), bundled on load as
//! wrangler bundles it: its `workerd` build, which connects through `cloudflare:sockets`,
//! authenticates with SCRAM (node:crypto), and upgrades to TLS with `startTls()`, checked
//! against the CA the node is told to trust. A query with parameters, a transaction that
//! commits and one that rolls back, and an error with PostgreSQL's code; and the same with
//! node-postgres (`pg` 8.23.1), on node:net and node:tls.

use edge_tests::*;
use serde_json::json;

const WORKER: &str = r#"
import postgres from "postgres";

export default {
  async fetch(request, env, ctx) {
    const sql = postgres(env.DATABASE_URL, { max: 1, ssl: env.SSL === "require" ? "require" : false });
    try {
      const [{ sum, who, tls }] = await sql`
        select ${2}::int + ${40}::int as sum, current_user as who,
               (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as tls`;
      await sql`create table if not exists notes (id serial primary key, body text unique not null)`;
      await sql`truncate notes`;
      // Commits both rows.
      await sql.begin(async (tx) => {
        await tx`insert into notes (body) values (${"first"})`;
        await tx`insert into notes (body) values (${"second"})`;
      });
      // The second insert breaks the unique constraint: the whole transaction rolls back.
      const rollback = await sql
        .begin(async (tx) => {
          await tx`insert into notes (body) values (${"third"})`;
          await tx`insert into notes (body) values (${"first"})`;
        })
        .then(() => "committed", (e) => `${e.name} ${e.code}`);
      const notes = (await sql`select body from notes order by id`).map((row) => row.body);
      const error = await sql`select * from nowhere`.then(
        () => "no error",
        (e) => ({ name: e.name, code: e.code, message: e.message }),
      );
      return Response.json({ sum, who, tls, rollback, notes, error });
    } finally {
      ctx.waitUntil(sql.end());
    }
  },
};
"#;

/// A project of `worker` (with `tests/npm`'s packages) given `DATABASE_URL` and `SSL`.
fn project(root: &std::path::Path, worker: &str, database_url: &str, ssl: &str) -> std::path::PathBuf {
  let manifest = format!(
    "main = \"worker.js\"\ncompatibility_flags = [\"nodejs_compat\"]\n[vars]\nDATABASE_URL = \"{database_url}\"\nSSL = \"{ssl}\"\n[outbound]\nallow = [\"localhost\"]\n"
  );
  npm_project(root, "pg-app", &[("worker.js", worker), ("edge.toml", &manifest)])
}

/// `edge dev` of `dir`, trusting the CA of `database`'s certificate.
fn dev_trusting(dir: std::path::PathBuf, database: &Postgres) -> DevServer {
  DevServer::start_with(&[dir], &["--trusted-roots", &database.ca().display().to_string()])
}

#[tokio::test]
async fn the_postgres_driver_queries_commits_rolls_back_and_reports_errors_over_tls() {
  let database = Postgres::start();
  let root = tempfile::tempdir().unwrap();
  let server = dev_trusting(project(root.path(), WORKER, &database.url("localhost"), "require"), &database);
  let reply = get(&server.url).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  assert_eq!(
    reply.json(),
    json!({
      "sum": 42,
      "who": "edge",
      "tls": true,
      "rollback": "PostgresError 23505",
      "notes": ["first", "second"],
      "error": { "name": "PostgresError", "code": "42P01", "message": "relation \"nowhere\" does not exist" },
    })
  );
  // Again, on a new connection: nothing of the first request is in the way.
  let reply = get(&server.url).await;
  assert_eq!(reply.json()["notes"], json!(["first", "second"]), "{}", reply.body);
}

#[tokio::test]
async fn the_postgres_driver_works_over_plain_tcp_too() {
  let database = Postgres::start();
  let root = tempfile::tempdir().unwrap();
  let dir = project(root.path(), WORKER, &database.url("127.0.0.1"), "off");
  let server = DevServer::start(&dir);
  let reply = get(&server.url).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  let answer = reply.json();
  assert_eq!((answer["sum"].clone(), answer["tls"].clone()), (json!(42), json!(false)), "{answer}");
  assert_eq!(answer["rollback"], "PostgresError 23505");
}

#[tokio::test]
async fn the_postgres_sample_keeps_notes() {
  let database = Postgres::start();
  let root = tempfile::tempdir().unwrap();
  let sample_dir = sample("postgres");
  let read = |path: &str| std::fs::read_to_string(sample_dir.join(path)).unwrap();
  let url = format!("{}?sslmode=require", database.url("localhost"));
  let dir = npm_project(
    root.path(),
    "postgres",
    &[
      ("src/index.js", &read("src/index.js")),
      ("edge.toml", &read("edge.toml")),
      (".dev.vars", &format!("DATABASE_URL={url}\n")),
    ],
  );
  let server = dev_trusting(dir, &database);
  let reply = post_on(&server, "127.0.0.1", "/?tags=db,edge", "first note").await;
  assert_eq!(reply.status, 201, "{}\n{}", reply.body, server.log.text());
  assert_eq!(reply.json(), json!({ "id": 1, "text": "first note", "tags": ["db", "edge"] }));
  let reply = post_on(&server, "127.0.0.1", "/", "second note").await;
  assert_eq!(reply.status, 201, "{}", reply.body);
  let reply = post_on(&server, "127.0.0.1", "/", "first note").await;
  assert_eq!((reply.status, reply.body.as_str()), (409, "that note exists already\n"));
  let reply = get(&server.at("/?q=first")).await;
  assert_eq!(reply.json(), json!([{ "id": 1, "text": "first note", "tags": ["db", "edge"] }]));
  let reply = get(&server.url).await;
  let notes = reply.json();
  let texts: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
  assert_eq!(texts, ["second note", "first note"]);
}

/// The same through node-postgres (`pg` 8.23.1), which uses `node:net` and upgrades with
/// `tls.connect({ socket })` (it takes its Cloudflare path only under workerd's user agent).
const PG_WORKER: &str = r#"
import pg from "pg";

export default {
  async fetch(request, env, ctx) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL, ssl: env.SSL === "require" });
    await client.connect();
    try {
      const { rows: [{ sum, who, tls }] } = await client.query(
        "select $1::int + $2::int as sum, current_user as who, (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as tls",
        [2, 40],
      );
      await client.query("create table if not exists pg_notes (id serial primary key, body text unique not null)");
      await client.query("truncate pg_notes");
      await client.query("begin");
      await client.query("insert into pg_notes (body) values ($1), ($2)", ["first", "second"]);
      await client.query("commit");
      let rollback = "committed";
      await client.query("begin");
      try {
        await client.query("insert into pg_notes (body) values ($1)", ["third"]);
        await client.query("insert into pg_notes (body) values ($1)", ["first"]);
        await client.query("commit");
      } catch (e) {
        rollback = `${e.constructor.name} ${e.code}`;
        await client.query("rollback");
      }
      const notes = (await client.query("select body from pg_notes order by id")).rows.map((row) => row.body);
      const error = await client.query("select * from nowhere").then(
        () => "no error",
        (e) => ({ code: e.code, message: e.message }),
      );
      return Response.json({ sum, who, tls, rollback, notes, error });
    } finally {
      ctx.waitUntil(client.end());
    }
  },
};
"#;

#[tokio::test]
async fn node_postgres_runs_on_node_net_and_tls() {
  let database = Postgres::start();
  let root = tempfile::tempdir().unwrap();
  let server =
    dev_trusting(project(root.path(), PG_WORKER, &database.url("localhost"), "require"), &database);
  let reply = get(&server.url).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  assert_eq!(
    reply.json(),
    json!({
      "sum": 42,
      "who": "edge",
      "tls": true,
      "rollback": "DatabaseError 23505",
      "notes": ["first", "second"],
      "error": { "code": "42P01", "message": "relation \"nowhere\" does not exist" },
    })
  );
}
