#!/usr/bin/env bash
# Smoke-tests a built binary from outside node_modules: against real
# PostgreSQL + Redis (health, register, login, a judge round trip, a PNG
# upload processed to `completed`, SIGTERM -> exit 0), then the same with
# embedded defaults (no DATABASE_URL / REDIS_URL).
#
# Redis: the binary gets its own logical database, db 12 (SMOKE_REDIS_DB), on
# the REDIS_URL host (default 127.0.0.1:6379); the db is flushed at start and
# at exit. Rate-limit buckets live in Redis (ratelimit:{scope}:{id}) and
# outlive the server: on the shared db 0 the per-IP register bucket
# (ratelimit:register:127.0.0.1, 10 per hour) lost 4 tokens per run, so the
# third run within an hour got 429 from /auth/register. db 12 is used by
# nothing else in the repo (test files use 1-5, 8, 10, 11, 13-15; bench/ and
# the fault tests start their own redis-server). Runs are serialized with a
# lock because one run's FLUSHDB would wipe another's queues and buckets.
set -Eeuo pipefail
# curl -f only says "error: 429", not which request; name the failing line.
trap 'echo "smoke: failed in ${FUNCNAME[0]:-main} (line $LINENO): $BASH_COMMAND" >&2' ERR
BIN=$(realpath "${1:-dist/huddle}")
WORK=$(mktemp -d)
ADMIN_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SMOKE_REDIS_DB=12
REDIS=$(BASE="${REDIS_URL:-redis://127.0.0.1:6379}" DB_NUM=$SMOKE_REDIS_DB bun -e 'const u = new URL(process.env.BASE); u.pathname = "/" + process.env.DB_NUM; console.log(u.href)')
DB="huddle_smoke_$$"
cleanup() {
  # Stop the server before flushing, so it cannot write keys back afterwards.
  if [ -n "${PID:-}" ]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  redis-cli -u "$REDIS" flushdb >/dev/null 2>&1 || true
  psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
exec 9>"${TMPDIR:-/tmp}/huddle-smoke-redis-db$SMOKE_REDIS_DB.lock"
flock -w 600 9 || { echo "another smoke run holds Redis db $SMOKE_REDIS_DB"; exit 1; }
trap cleanup EXIT
redis-cli -u "$REDIS" flushdb >/dev/null   # start from empty buckets and queues
free_port() { bun -e 'const s=Bun.listen({hostname:"127.0.0.1",port:0,socket:{data(){}}});console.log(s.port);s.stop(true)'; }

wait_ready() {
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || { echo "server exited early"; cat "$WORK/log"; return 1; }
    sleep 0.5
  done
  echo "server did not become healthy"; cat "$WORK/log"; return 1
}

register_login() {
  local port=$1 name="smoke$RANDOM$$"
  curl -fsS -X POST "http://127.0.0.1:$port/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"smoke-password\"}" | grep -q access_token
  curl -fsS -X POST "http://127.0.0.1:$port/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"password\":\"smoke-password\"}" | grep -q access_token
  echo "register + login ok on port $port"
}

# Submits SQL for the first catalog problem and waits for a terminal verdict (the judge works inside the binary).
judge_roundtrip() {
  local port=$1 name="judge$RANDOM$$" token problem job verdict
  token=$(curl -fsS -X POST "http://127.0.0.1:$port/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"smoke-password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 120); do
    problem=$(curl -fsS "http://127.0.0.1:$port/problems" -H "authorization: Bearer $token" | sed -n 's/.*"problems":\[{"id":"\([^"]*\)".*/\1/p')
    [ -n "$problem" ] && break
    sleep 0.5
  done
  [ -n "$problem" ] || { echo "catalog stayed empty"; cat "$WORK/log"; return 1; }
  job=$(curl -fsS -X POST "http://127.0.0.1:$port/problems/submit" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"problem_id\":\"$problem\",\"sql_query\":\"select 1\"}" | sed 's/.*"job_id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 120); do
    verdict=$(curl -fsS "http://127.0.0.1:$port/problems/result/$job" -H "authorization: Bearer $token" | sed -n 's/.*"verdict":"\([a-z_]*\)".*/\1/p')
    [ -n "$verdict" ] && break
    sleep 0.5
  done
  [ "$verdict" = "wrong_answer" ] || { echo "expected wrong_answer for select 1, got '$verdict'"; cat "$WORK/log"; return 1; }
  echo "judge ok on port $port: $problem -> $verdict"
}

# Uploads a small PNG into a direct conversation and waits until the file worker has processed it.
file_roundtrip() {
  local port=$1 h="http://127.0.0.1:$1" a="filea$RANDOM$$" b="fileb$RANDOM$$" token peer conv file status
  reg() { curl -fsS -X POST "$h/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"smoke-password\"}"; }
  token=$(reg "$a" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  peer=$(reg "$b" | sed 's/.*"user":{"id":"\([^"]*\)".*/\1/')
  conv=$(curl -fsS -X POST "$h/chat/send" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"to\":\"$peer\",\"content\":\"a picture\"}" | sed 's/.*"conversation_id":"\([^"]*\)".*/\1/')
  echo 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' | base64 -d >"$WORK/dot.png"
  file=$(curl -fsS -X POST "$h/files/upload" -H "authorization: Bearer $token" \
    -F "conversation_id=$conv" -F "file=@$WORK/dot.png;type=application/octet-stream" | sed 's/.*"file_id":"\([^"]*\)".*/\1/')
  for _ in $(seq 1 120); do
    status=$(curl -fsS "$h/files/$file/status" -H "authorization: Bearer $token" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    [ "$status" = completed ] || [ "$status" = failed ] && break
    sleep 0.5
  done
  [ "$status" = completed ] || { echo "file upload ended '$status'"; cat "$WORK/log"; return 1; }
  curl -fsS "$h/files/$file/thumbnail" -H "authorization: Bearer $token" -o /dev/null
  echo "file upload ok on port $port: $file -> $status"
}

stop_gracefully() {
  kill -TERM "$PID"
  local code=0
  wait "$PID" || code=$?
  PID=
  [ "$code" -eq 0 ] || { echo "exit code $code after SIGTERM"; cat "$WORK/log"; return 1; }
  echo "SIGTERM -> exit 0"
}

cd "$WORK"   # no node_modules here: the binary must be self-contained
psql "$ADMIN_URL" -qc "create database $DB"
DB_URL="${ADMIN_URL%/*}/$DB"

PORT=$(free_port)
DATABASE_URL="$DB_URL" REDIS_URL="$REDIS" DATA_DIR="$WORK/d1" PORT=$PORT "$BIN" migrate
DATABASE_URL="$DB_URL" REDIS_URL="$REDIS" DATA_DIR="$WORK/d1" PORT=$PORT "$BIN" serve >"$WORK/log" 2>&1 &
PID=$!
wait_ready "$PORT"
curl -fsS "http://127.0.0.1:$PORT/health"; echo
curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null
curl -fsS "http://127.0.0.1:$PORT/swagger/json" | grep -q '"/auth/register"'
register_login "$PORT"
judge_roundtrip "$PORT"
file_roundtrip "$PORT"
stop_gracefully

PORT=$(free_port)
env -u DATABASE_URL -u REDIS_URL DATA_DIR="$WORK/embedded" PORT=$PORT "$BIN" >"$WORK/log" 2>&1 &
PID=$!
wait_ready "$PORT"
register_login "$PORT"
judge_roundtrip "$PORT"
file_roundtrip "$PORT"
stop_gracefully
echo "smoke test passed"
