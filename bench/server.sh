#!/usr/bin/env bash
# Server benchmark (issue #3): wrk on loopback against entity pages and search with the demo
# data, on SQLite and PostgreSQL; prints requests/s and p99 latency per endpoint at a fixed
# rate of 1,000 requests/s (wrk2-style pacing is not in Debian's wrk, so wrk runs closed-loop
# with 4 connections and the script reports the throughput it sustained and its latency).
#
#   bench/server.sh                 # SQLite, then PostgreSQL (throw-away cluster)
#   BACKENDS=sqlite bench/server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BACKENDS=${BACKENDS:-"sqlite postgres"}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q -p tandem
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/tandem
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-serve.XXXX")
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

run_backend() {
  local backend=$1 db
  case $backend in
    sqlite) db="sqlite://$WORK/bench.db" ;;
    postgres) source .ci/postgres.sh; db=$TANDEM_TEST_POSTGRES ;;
  esac
  export TANDEM_KEY_FILE=$WORK/tandem.key
  "$BIN" --db "$db" demo >/dev/null
  "$BIN" --db "$db" import ofac ../shared/data/screening/ofac/sdn_2024-05-03.csv >/dev/null
  local token_json secret
  "$BIN" --db "$db" user add bench --name "Benchmark" --org bench --role analyst --json >/dev/null
  "$BIN" --db "$db" serve --bind 127.0.0.1:18080 --json >"$WORK/serve.json" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
  # An API token for the analyst, made through the store by the CLI's user tooling.
  secret=$("$BIN" --db "$db" user token bench --name wrk --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  local entity
  entity=$(curl -fs -H "Authorization: Bearer $secret" "http://127.0.0.1:18080/api/v1/search?q=Ghermay&limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
  for target in "/entity/$entity" "/api/v1/entities/$entity" "/api/v1/search?q=mohammed&limit=10" "/search?q=ali"; do
    # Warm-up, not measured: the first search after a start or an import answers from the
    # database while the in-memory copy of the names index is built.
    wrk -t2 -c4 -d2s -H "Authorization: Bearer $secret" "http://127.0.0.1:18080$target" >/dev/null
    wrk -t2 -c4 -d"$DURATION" --latency -H "Authorization: Bearer $secret" "http://127.0.0.1:18080$target" >"$WORK/wrk.txt"
    local rps p99
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
    printf '%-9s %-45s %10s req/s   p99 %s   (target: p99 < 20 ms at 1,000 req/s)\n' "$backend" "$target" "$rps" "$p99"
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  if [ "$backend" = postgres ]; then tandem_postgres_stop; fi
}

for backend in $BACKENDS; do run_backend "$backend"; done
