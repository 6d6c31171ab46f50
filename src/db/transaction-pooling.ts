/**
 * postgres.js behind a transaction-pooling PgBouncer (DATABASE_POOLER=transaction).
 * There, one client connection's consecutive transactions (and statements outside
 * a transaction) run on whichever server connection is free, and the pooler takes
 * the server back whenever PostgreSQL reports it idle (ReadyForQuery). Two
 * postgres.js defaults break under that, both seen through PgBouncer 1.18
 * (test/integration/chat/pgbouncer.test.ts):
 *
 * 1. Named prepared statements. drizzle's queries are unnamed, but postgres.js'
 *    own tagged queries are prepared once per client connection and later only
 *    bound by name; on another server connection PostgreSQL answers "prepared
 *    statement ... does not exist". sql.begin's `commit` is such a query: the error
 *    aborts the transaction, postgres.js retries the COMMIT, and PostgreSQL answers
 *    a COMMIT of an aborted transaction with the tag ROLLBACK, not an error. So
 *    db.transaction resolved as if it had committed: the persister acknowledged
 *    messages that were rolled back, and direct conversations were handed out that
 *    never existed (their messages later failed on the foreign key). prepare: false.
 * 2. Pipelining. postgres.js writes the next query on a connection whose previous
 *    query has not answered yet (with prepare: false, when that one had no
 *    parameters: `select 1` of /ready, drizzle's parameterless selects). PgBouncer
 *    (1.18 here) gives the server to another client at the first ReadyForQuery,
 *    and the answers to what was pipelined behind it go nowhere ("got packet from
 *    server when not linked", pgbouncer/pgbouncer#759): that query waits forever
 *    (with prepared statements too, queries even got other queries' results).
 *    max_pipeline: 0 would stop it, but then postgres.js 3.4.9's sql.begin never
 *    reserves its connection and always fails with UNSAFE_TRANSACTION
 *    (porsager/postgres#1210); so each query instead tells postgres.js, through
 *    the hook sql.begin uses to reserve, that its connection takes nothing more
 *    until it has answered. Inside a transaction the server stays with the
 *    client, so sql.begin's own queries are left as they are.
 *
 * Session state (SET, advisory locks, LISTEN, temp tables) must not go through
 * the pooler either: Database.withSession uses DATABASE_DIRECT_URL for that.
 */
import type postgres from "postgres";

export const transactionPoolingOptions = { prepare: false } as const;

/** postgres.js' onexecute hook: its result says whether the connection may take another query now. */
const takesNothingMore = () => false;

type Query = { options: { onexecute?: unknown }; execute: unknown };
const isQuery = (x: unknown): x is Query =>
  typeof x === "object" && x !== null && "options" in x && typeof (x as Query).execute === "function";

function alone<T>(query: T): T {
  if (isQuery(query)) query.options.onexecute ??= takesNothingMore;
  return query;
}

/**
 * `sql` whose queries (tagged or `unsafe`, which drizzle uses) never share a
 * connection with another query in flight. Everything else, `begin` and the
 * `options` drizzle installs its parsers into included, is the client's own.
 */
export function withoutPipelining(sql: postgres.Sql): postgres.Sql {
  const unsafe = (...args: Parameters<postgres.Sql["unsafe"]>) => alone(sql.unsafe(...args));
  return new Proxy(sql, {
    apply: (target, self, args) => alone(Reflect.apply(target, self, args)),
    get: (target, key, receiver) => (key === "unsafe" ? unsafe : Reflect.get(target, key, receiver)),
  });
}
