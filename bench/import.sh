#!/usr/bin/env bash
# Import benchmark (issue #2): the full OFAC SDN file, FtM JSON lines throughput, and the peak
# memory of a 1,000,000-entity FtM import, on SQLite (default) or the database in TANDEM_BENCH_DB
# (e.g. a postgres:// URL). Prints each figure next to its target.
#
#   bench/import.sh            # full run (1,000,000 entities)
#   N=200000 bench/import.sh   # a smaller FtM run
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
N=${N:-1000000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench.XXXX")
trap 'rm -rf "$WORK"' EXIT

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -q -p tandem -p tandem-ingest --examples --bins
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/tandem
GEN=$TARGET/release/examples/synthetic_ftm

db_url() { echo "${TANDEM_BENCH_DB:-sqlite://$WORK/$1.db}"; }

# Runs a command under /usr/bin/time; sets SECS and PEAK_MB.
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r SECS KB <"$WORK/time"
  PEAK_MB=$((KB / 1024))
}

echo "== OFAC SDN 2024-05-03 (14,965 entries)"
measure "$BIN" --db "$(db_url sdn)" import ofac "$SHARED/screening/ofac/sdn_2024-05-03.csv"
echo "sdn import: ${SECS}s, peak ${PEAK_MB} MB (target: under 2 s)"

echo "== FtM JSON lines, $N generated entities"
"$GEN" "$N" 42 >"$WORK/entities.ftm.jsonl"
SIZE_MB=$(( $(stat -c %s "$WORK/entities.ftm.jsonl") / 1048576 ))
measure "$BIN" --db "$(db_url ftm)" import ftm "$WORK/entities.ftm.jsonl"
RATE=$(python3 -c "print(int($N / max($SECS, 0.001)))")
echo "ftm import: $N entities (${SIZE_MB} MB) in ${SECS}s = ${RATE} entities/s (target: 50,000/s or more)"
echo "ftm import peak memory: ${PEAK_MB} MB (target: under 500 MB)"
