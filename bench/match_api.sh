#!/usr/bin/env bash
# yente-compatible matching benchmark (issue #4): `tandem serve` over the demo ecosystem, the
# OFAC SDN list and the UN consolidated list; wrk POSTs `/match/default` with one Person query
# per request (rotating through real designee spellings, 5 results each) and the script prints
# the requests/s sustained and the p99 latency. Target: ≥ 300 requests/s on 2 cores.
#
#   bench/match_api.sh                    # SQLite
#   BACKENDS="sqlite postgres" bench/match_api.sh
#   DURATION=30s CONNECTIONS=8 bench/match_api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BACKENDS=${BACKENDS:-sqlite}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
PORT=${PORT:-18081}
DATA=../shared/data/screening
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q -p tandem
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/tandem
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-match.XXXX")
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# The request body rotates through spellings that must find UN and OFAC Libya designees, with
# and without birth dates and nationalities, as a compliance client would send them.
cat >"$WORK/match.lua" <<'LUA'
local queries = {
  '{"schema":"Person","properties":{"name":["Ermias Ghermay"],"birthDate":["1980"],"nationality":["er"]}}',
  '{"schema":"Person","properties":{"name":["Mohammed Kachlaf"]}}',
  '{"schema":"Person","properties":{"name":["Mus\'ab Abu Qarin"],"nationality":["ly"]}}',
  '{"schema":"Person","properties":{"name":["Abdurahman Salem Ibrahim Milad"],"birthDate":["1986-07-27"]}}',
  '{"schema":"Person","properties":{"name":["Osama Al Kuni Ibrahim"]}}',
  '{"schema":"Person","properties":{"name":["Fitiwi Abdelrazak"]}}',
  '{"schema":"Organization","properties":{"name":["Barakat Transnational Criminal Organization"]}}',
  '{"schema":"Person","properties":{"name":["John Smith"],"birthDate":["1975-03-02"]}}',
}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TANDEM_BENCH_TOKEN")
request = function()
  n = n + 1
  local body = '{"queries":{"q1":' .. queries[(n % #queries) + 1] .. '}}'
  return wrk.format(nil, "/match/default?limit=5", nil, body)
end
response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
LUA

run_backend() {
  local backend=$1 db
  case $backend in
    sqlite) db="sqlite://$WORK/bench.db" ;;
    postgres) source .ci/postgres.sh; db=$TANDEM_TEST_POSTGRES ;;
  esac
  export TANDEM_KEY_FILE=$WORK/tandem.key
  "$BIN" --db "$db" demo >/dev/null
  "$BIN" --db "$db" import ofac "$DATA/ofac/sdn_2024-05-03.csv" >/dev/null
  "$BIN" --db "$db" import un "$DATA/un/un_consolidated_2026-02-27.xml" >/dev/null
  "$BIN" --db "$db" user add bench --name "Benchmark" --org bench --role analyst --json >/dev/null
  "$BIN" --db "$db" serve --bind "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  # Ready when the screening index is built (/readyz answers 503 while it builds).
  local started=$SECONDS
  until curl -fs "http://127.0.0.1:$PORT/readyz" >"$WORK/ready.json" 2>/dev/null; do
    sleep 0.2
    if (( SECONDS - started > 300 )); then echo "the index was not built in 5 minutes" >&2; exit 1; fi
  done
  local built=$((SECONDS - started))
  TANDEM_BENCH_TOKEN=$("$BIN" --db "$db" user token bench --name wrk --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  export TANDEM_BENCH_TOKEN
  # One request checked by hand: the designee is found, 5 results at most.
  curl -fs -X POST -H "Authorization: Bearer $TANDEM_BENCH_TOKEN" -H 'Content-Type: application/json' \
    -d '{"queries":{"q1":{"schema":"Person","properties":{"name":["Mohammed Kachlaf"]}}}}' \
    "http://127.0.0.1:$PORT/match/default?limit=5" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["responses"]["q1"]["results"]; assert any("KOSHLAF" in x["caption"] for x in r), r; assert len(r) <= 5'
  # Warm up, then measure.
  wrk -t2 -c"$CONNECTIONS" -d3s -s "$WORK/match.lua" "http://127.0.0.1:$PORT" >/dev/null 2>&1
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/match.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk.txt" 2>"$WORK/wrk.err"
  local rps p99 p50 errors entities
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
  errors=$(grep -c "unexpected status" "$WORK/wrk.err" || true)
  entities=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entities"])' "$WORK/ready.json")
  printf '%-9s POST /match/default (limit 5, 1 query)   %9s req/s   p50 %-8s p99 %-8s non-200: %s   index: %s entities in %ss   cores: %s   (target ≥ 300 req/s on 2 cores)\n' \
    "$backend" "$rps" "$p50" "$p99" "$errors" "$entities" "$built" "$(nproc)"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  if [ "$backend" = postgres ]; then tandem_postgres_stop; fi
}

for backend in $BACKENDS; do run_backend "$backend"; done
