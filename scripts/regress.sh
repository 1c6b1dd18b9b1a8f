#!/usr/bin/env bash
# Behaviour-preserving check: a fixed set of short CPU runs (fixed seed and
# threads) whose metrics.jsonl, summary.json and config.json must be
# byte-identical, timings aside, between two builds of gnnrec.
#
#   scripts/regress.sh BASE_REF [BUILD]
#       builds BASE_REF (a commit, branch or tag) in a temporary worktree,
#       runs the set with its binary and with BUILD/gnnrec (default build/,
#       built first with `make build`), and compares; exit 1 on a difference.
#   scripts/regress.sh run BIN OUT_DIR     runs the set with BIN into OUT_DIR
#   scripts/regress.sh compare DIR_A DIR_B compares two such directories
#
# Runs on data sets from ../shared/data are skipped (and said so) when the
# folder is absent; the synthetic runs always run. Timing fields (every key
# ending in "_seconds", and summary.json's "threads") and config.json's
# "out" are dropped before comparing, and the data set's path is cut to its
# folder's name (the checkouts differ); everything else must match byte for
# byte.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${GNNREC_SHARED_DATA:-$root/../shared/data}"

# name|dataset (synthetic or a folder of ../shared/data)|flags
runs=(
  "lightgcn|synthetic|--model lightgcn --epochs 3 --eval-every 1"
  "lightgcn_bce|synthetic|--model lightgcn --loss bce --negatives 3 --epochs 2 --eval-every 1 --cold-fraction 0.2"
  "mf|synthetic|--model mf --epochs 3 --eval-every 1 --reg-scope full"
  "gcn|synthetic|--model gcn --epochs 2 --eval-every 1"
  "ngcf|synthetic|--model ngcf --epochs 2 --eval-every 1"
  "gat_dropout|synthetic|--model gat --dim 32 --heads 4 --dropout 0.3 --attention-dropout 0.2 --epochs 2 --eval-every 1"
  "sage|synthetic|--model sage --layers 2 --fanouts 5,3 --epochs 2 --eval-every 1"
  "sage_max|synthetic|--model sage --layers 2 --aggregator max --epochs 1"
  "kgat|kgcn-music|--model kgat --dim 32 --layers 2 --epochs 2 --eval-every 1"
  "kgcn_ctr|kgcn-music|--model kgcn --protocol ctr --loss bce --dim 16 --layers 1 --epochs 2 --eval-every 1 --reg-scope full"
  "transr|kgcn-music|--model transr --dim 32 --epochs 1"
  "heterogat|ml-100k|--model heterogat --dim 32 --layers 1 --epochs 1"
  "mf_rating|ml-100k|--model mf --loss mse --epochs 2 --eval-every 1"
)
# One thread: two threads differ in the last digits about once in 20-30 runs
# (MKL; docs/run_directory.md, "Determinism").
common=(--threads 1 --seed 7 --batch-size 1024 --quiet --synthetic-users 600 --synthetic-items 400)

strip() {  # FILE: the file with timing keys dropped, one canonical JSON per line
  python3 - "$1" <<'PY'
import json, os, sys
def drop(o):
    if isinstance(o, dict):
        return {k: os.path.basename(v) if k == "dataset" else drop(v)
                for k, v in o.items()
                if not k.endswith("_seconds") and k not in ("threads", "out")}
    if isinstance(o, list):
        return [drop(v) for v in o]
    return o
text = open(sys.argv[1]).read()
if sys.argv[1].endswith(".jsonl"):
    for line in text.splitlines():
        if line.strip():
            print(json.dumps(drop(json.loads(line))))
else:
    print(json.dumps(drop(json.loads(text)), indent=1))
PY
}

run_set() {  # BIN OUT_DIR
  local bin="$1" out="$2" spec name ds flags dsarg
  mkdir -p "$out"
  for spec in "${runs[@]}"; do
    IFS='|' read -r name ds flags <<<"$spec"
    if [ "$ds" = synthetic ]; then
      dsarg=synthetic
    elif [ -d "$data/$ds" ]; then
      dsarg="$data/$ds"
    else
      echo "regress: skip $name ($data/$ds absent)"
      continue
    fi
    rm -rf "$out/$name"
    # shellcheck disable=SC2086
    if ! GNNREC_NO_PLOT=1 "$bin" train --dataset "$dsarg" $flags "${common[@]}" \
        --out "$out/$name" >"$out/$name.log" 2>&1; then
      echo "regress: $name failed with $bin:"; tail -n 5 "$out/$name.log"; return 1
    fi
    strip "$out/$name/metrics.jsonl" >"$out/$name.metrics"
    strip "$out/$name/summary.json" >"$out/$name.summary"
    strip "$out/$name/config.json" >"$out/$name.config"
    echo "regress: ran $name"
  done
}

compare() {  # DIR_A DIR_B
  local a="$1" b="$2" bad=0 n=0 f
  for f in "$a"/*.metrics "$a"/*.summary "$a"/*.config; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    if ! cmp -s "$f" "$b/$(basename "$f")"; then
      echo "regress: DIFFERS: $(basename "$f")"
      diff "$f" "$b/$(basename "$f")" | head -n 6 || true
      bad=1
    fi
  done
  [ "$n" -gt 0 ] || { echo "regress: nothing to compare in $a"; return 1; }
  if [ "$bad" -eq 0 ]; then echo "regress: $n files identical"; fi
  return "$bad"
}

case "${1:-}" in
  run) run_set "$2" "$3" ;;
  compare) compare "$2" "$3" ;;
  restrip)  # DIR: redo the .metrics/.summary/.config files of a run_set directory
    for d in "$2"/*/; do
      n=$(basename "$d")
      strip "$d/metrics.jsonl" >"$2/$n.metrics"
      strip "$d/summary.json" >"$2/$n.summary"
      strip "$d/config.json" >"$2/$n.config"
    done ;;
  ""|-h|--help) sed -n '2,18p' "$0"; exit 2 ;;
  *)
    base="$1" build="${2:-build}"
    tmp="$(mktemp -d)"
    trap 'git -C "$root" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
    git -C "$root" worktree add --detach "$tmp/src" "$base" >/dev/null
    # The base's build shares ccache (paths hashed relative to the tree).
    make -C "$tmp/src" build BUILD="$tmp/build" >"$tmp/base-build.log" 2>&1 ||
      { tail -n 20 "$tmp/base-build.log"; exit 1; }
    make -C "$root" build BUILD="$build" >/dev/null
    run_set "$tmp/build/gnnrec" "$tmp/base"
    run_set "$root/$build/gnnrec" "$tmp/new"
    compare "$tmp/base" "$tmp/new"
    ;;
esac
