#!/usr/bin/env bash
# Fuzzes gnnrec's input parsers with libFuzzer (fuzz/, one target per loader,
# the config file and recommend's --user lookup).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [RUNS]
#
# Configures and builds fuzz/ with clang (-fsanitize=fuzzer,address,undefined;
# Torch-free) into $FUZZ_BUILD (default build-fuzz/), then runs every target
# (or only those named in $FUZZ_TARGETS) one after another, each for at most
# SECONDS_PER_TARGET seconds (default 15) and at most RUNS inputs (default:
# no limit), starting from the seeds in fuzz/corpus/<target>/ plus what
# earlier runs added to $FUZZ_BUILD/corpus/<target>/. Prints each target's
# inputs run and exec/s. A crash, sanitizer report, hang (> 10 s on one
# input), out-of-memory (> 2 GB) or unexpected exception stops that target;
# its input is saved as $FUZZ_BUILD/artifacts/<target>-crash-* and the
# script exits 1 after running the rest. FUZZ_JOBS=N (default 1) runs N
# targets at once (the long runs: one target per core).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-15}"
RUNS="${2:--1}"
BUILD="${FUZZ_BUILD:-build-fuzz}"
TARGETS="${FUZZ_TARGETS:-lightgcn ml100k ml1m delimited kgat kgcn recbole cache config recommend_user}"

log() { echo "fuzz: $*" >&2; }

# clang with its libFuzzer runtime, CMake, Ninja, toml++ (the config file's
# parser): installed when missing.
need_pkgs=()
command -v clang++ >/dev/null 2>&1 || need_pkgs+=(clang)
command -v cmake >/dev/null 2>&1   || need_pkgs+=(cmake)
command -v ninja >/dev/null 2>&1   || need_pkgs+=(ninja-build)
[ -f /usr/include/toml++/toml.h ]  || need_pkgs+=(libtomlplusplus-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

start=$(date +%s)
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S fuzz -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
log "built in $(( $(date +%s) - start )) s"

# fuzz_cache's seeds come from the current save_dataset_binary (they follow
# cache format changes); the others are the files in fuzz/corpus/.
mkdir -p "$BUILD/seeds/cache" "$BUILD/artifacts"
"$BUILD/make_cache_seeds" "$BUILD/seeds/cache"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
JOBS="${FUZZ_JOBS:-1}"
# One target: its libFuzzer log in $BUILD/fuzz_<t>.log, its result line in
# $BUILD/result_<t> (read back below, in the order the targets were named).
run_target() {
  local t=$1 corpus="$BUILD/corpus/$1" logf="$BUILD/fuzz_$1.log" status=ok t0
  mkdir -p "$corpus"
  local seeds=(fuzz/corpus/"$t")
  [ "$t" = cache ] && seeds+=("$BUILD/seeds/cache")
  t0=$(date +%s)
  "$BUILD/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -runs="$RUNS" -max_len=4096 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/artifacts/$t-" "$corpus" "${seeds[@]}" >"$logf" 2>&1 \
    || status=FAILED
  local inputs rate
  inputs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logf" | tail -n 1)
  printf '%-16s %12s %10s %8s  %s\n' "$t" "${inputs:-?}" "${rate:-?}" "$(( $(date +%s) - t0 ))" \
    "$status" >"$BUILD/result_$t"
}

for t in $TARGETS; do rm -f "$BUILD/result_$t"; done
for t in $TARGETS; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_target "$t" &
done
wait

failed=()
printf '%-16s %12s %10s %8s  %s\n' target inputs exec/s seconds result
for t in $TARGETS; do
  cat "$BUILD/result_$t" 2>/dev/null || printf '%-16s %12s %10s %8s  %s\n' "$t" ? ? ? FAILED
  if ! grep -q ' ok$' "$BUILD/result_$t"; then
    failed+=("$t")
    grep -E 'FINDING|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error|Test unit written' \
      "$BUILD/fuzz_$t.log" | head -n 5 >&2 || true
    log "$t: full log in $BUILD/fuzz_$t.log"
  fi
done
log "total $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  log "findings in: ${failed[*]}"
  exit 1
fi
