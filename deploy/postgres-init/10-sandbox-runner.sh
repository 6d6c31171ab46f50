#!/bin/sh
# Run by the postgres image once, when it initialises an empty data volume
# (compose.yaml mounts this folder on /docker-entrypoint-initdb.d).
#
# Why: the judge runs submissions as huddle_sandbox_runner, a role Huddle
# creates itself without a password (it can only SELECT the problem datasets
# in huddle_sandbox), and the image asks every TCP client for a password. This
# lets that one role into that one database from the compose network without
# one; every other role and database still needs the password. First match
# wins in pg_hba.conf, so the line goes on top.
set -eu
hba="$PGDATA/pg_hba.conf"
{
  echo "host huddle_sandbox huddle_sandbox_runner samenet trust"
  cat "$hba"
} > "$hba.new"
mv "$hba.new" "$hba"
