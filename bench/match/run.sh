#!/usr/bin/env bash
# Screening benchmark (issue #4): Tandem's matcher next to nomenklatura's logic-v2 in one run,
# on the same inputs, printing both systems' figures and the ratios.
#
#   bench/match/run.sh                 # CI-sized negatives (1,000 rows each)
#   FULL=1 bench/match/run.sh          # the 50,000 negatives (logic-v2 rescoring takes long)
#   TOP=50 bench/match/run.sh          # candidates per negative that logic-v2 rescores (default 20)
#   PAIR_RUNS=9 bench/match/run.sh     # turns of the per-pair timing for each system (default 5)
#
# logic-v2 is too slow to screen every negative against the whole list, so it rescores the
# candidates Tandem's index gathers for each row (screening spec, section 4.3).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared/data/screening}
export TOP=${TOP:-20}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench-match.XXXX")
trap 'rm -rf "$OUT"' EXIT

VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import nomenklatura' 2>/dev/null; then
  echo "== installing nomenklatura, rigour, followthemoney into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q nomenklatura rigour followthemoney
fi
PY="$VENV/bin/python"
"$PY" -c 'import nomenklatura, rigour, followthemoney; print("logic-v2 from nomenklatura", nomenklatura.__version__ if hasattr(nomenklatura, "__version__") else "")'

cargo build --release -q -p tandem-match --example bench_match
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_match

# Shared machines switch between speeds within seconds: the two systems take turns, each in
# a fresh process (logic-v2's caches start empty, as in its first pass), and the report
# compares the fastest turn of each.
echo "== labelled pairs (${PAIR_RUNS:=5} turns each)"
for run in $(seq 1 "$PAIR_RUNS"); do
  "$BIN" pairs "$SHARED/eval/name_pairs_dev.csv" --json "$OUT/tandem_pairs.$run.json"
  "$PY" bench/match/logic_v2.py pairs "$SHARED/eval/name_pairs_dev.csv" >"$OUT/logicv2_pairs.$run.json"
done
"$PY" bench/match/report.py "$OUT" --merge-pairs

echo "== perturbations"
"$BIN" perturb --dump "$OUT/perturb" --json "$OUT/tandem_perturb.json" 2>&1 | grep -v '    miss' >&2
"$PY" bench/match/logic_v2.py perturb "$OUT/perturb" >"$OUT/logicv2_perturb.json"

if [ "${FULL:-0}" = 1 ]; then NEG=eval/yente_negatives_global.csv; else NEG=eval/yente_negatives_global_1k.csv; fi
echo "== negatives ($NEG)"
"$BIN" negatives "$SHARED/$NEG" --top "$TOP" --dump "$OUT/neg_names" --json "$OUT/tandem_negatives_names.json"
"$PY" bench/match/logic_v2.py negatives "$OUT/neg_names" >"$OUT/logicv2_negatives_names.json"
"$BIN" negatives "$SHARED/$NEG" --qualifiers --top "$TOP" --dump "$OUT/neg_qualified" --json "$OUT/tandem_negatives_qualified.json"
"$PY" bench/match/logic_v2.py negatives "$OUT/neg_qualified" >"$OUT/logicv2_negatives_qualified.json"

echo "== cross-script names"
"$BIN" scripts --json "$OUT/tandem_scripts.json"

echo "== batch screening (50,000 negatives)"
"$BIN" batch "$SHARED/eval/yente_negatives_global.csv" --json "$OUT/tandem_batch.json"

echo
"$PY" bench/match/report.py "$OUT"
