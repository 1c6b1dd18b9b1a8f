#!/usr/bin/env bash
# Run ON THE GPU MACHINE, from a copy of this checkout that carries .gpu/
# (made here by scripts/gpu/bundle.sh). Builds with the torch of python3 and
# the bundled test/CLI/JSON packages, then runs the CUDA checks. Each stage
# writes its log under $OUT (when set, e.g. by the device tool; else
# .gpu/out) and the script goes on after a failed stage; the exit status is
# non-zero if any stage failed, and $OUT/summary.txt lists them.
#
#   scripts/gpu/run_checks.sh [STAGE...]     (default: build test sanitize bench)
#
# Stages (each fits one 10-minute device command; the build folder is kept
# between calls, so they can also be run one per call):
#   build     googletest from the bundled sources (once), configure and build
#             everything in $BUILD (default build-gpu) with -DGNNREC_CUDA=ON
#   test      gnnrec_core_tests: the CUDA suites first, then the whole binary
#             (set FULL_TESTS=0 to skip the whole-binary run)
#   sanitize  compute-sanitizer memcheck and racecheck on the CUDA suites
#             (Torch's caching allocator off, so out-of-bounds accesses hit
#             real allocation edges)
#   bench     the CUDA SpMM benchmark (Gowalla from .gpu/data + synthetic);
#             its JSON goes to bench/results/ and to $OUT
#   profile   (not in the default list) ncu on the SpMM kernels of the
#             benchmark, with NVTX ranges on (GNNREC_NVTX=1)
#   env       (not in the default list) the GPU, driver, torch and nvcc seen
#   train     (not in the default list) `gnnrec train --device cuda`: MF and
#             LightGCN on synthetic data, then LightGCN on Gowalla for
#             $GOWALLA_EPOCHS epochs (default 3); run directories under $OUT
#   eval      (not in the default list) the full-ranking evaluation benchmark
#             (gnnrec_bench_eval, Gowalla, random d 64 embeddings on the GPU)
#   models    (not in the default list) every model for a short fixed budget
#             on MovieLens 100K with --device cuda (MODEL_EPOCHS, default 20)
#   gowalla   (not in the default list) LightGCN on Gowalla with the paper's
#             settings until GOWALLA_SECONDS (default 500) have passed, then
#             interrupted (SIGINT): metrics.jsonl keeps every evaluation
#   ncu-train (not in the default list) ncu over one LightGCN training batch
#             on Gowalla (the kernels inside the NVTX range
#             gnnrec::train::forward..step of batch ~20), summary per kernel
#   pytest    (not in the default list) the Python package's tests
#             (tests/python) against the library in $BUILD, CUDA included
#   nccl      (not in the default list) issue 21's one-GPU check: world size
#             1 over NCCL (torchrun's variables set by hand), data-parallel
#             and --shard-embeddings, MF and LightGCN on synthetic data, each
#             against the same run without the variables: summary.json must
#             name the backend and world size 1 and the metrics must agree
#             (DEVICE=cpu runs the same check over Gloo, for trying the
#             stage on a CPU machine)
#
# PREBUILT=1: no build there; the binaries come from .gpu/build (made here by
# scripts/gpu/prebuilt.sh) and LD_LIBRARY_PATH points at python3's torch.
# STAGE_TIMEOUT=SECONDS stops a stage that runs longer (default: none).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bundle="$root/.gpu"
out="${OUT:-$bundle/out}"
build="${BUILD:-build-gpu}"
if [[ "${PREBUILT:-0}" == 1 ]]; then
  build="$bundle/build"
  torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  nvidia_libs=$(ls -d "$torch_lib"/../../nvidia/*/lib 2> /dev/null | tr '\n' ':')
  export LD_LIBRARY_PATH="$build:$torch_lib:$nvidia_libs/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
fi
jobs="${JOBS:-$(nproc)}"
cuda_filter="${CUDA_FILTER:-Cuda*:*/Cuda*}"
mkdir -p "$out"
summary="$out/summary.txt"
failed=0

stage() {  # stage NAME COMMAND...: runs, logs to $out/NAME.log, records the status
  local name=$1
  shift
  local start=$SECONDS
  echo "== $name: $*"
  if [[ -n "${STAGE_TIMEOUT:-}" ]]; then
    # timeout runs programs, not shell functions: the stage runs in a child
    # bash that inherits the exported functions and settings.
    export -f $(compgen -A function)
    export root bundle out build jobs cuda_filter
    timeout --foreground "$STAGE_TIMEOUT" bash -c '"$@"' _ "$@" > "$out/$name.log" 2>&1
  else
    "$@" > "$out/$name.log" 2>&1
  fi
  local rc=$?
  tail -n 25 "$out/$name.log"
  echo "$name: rc=$rc, $((SECONDS - start)) s" | tee -a "$summary"
  [[ $rc -eq 0 ]] || failed=1
  return $rc
}

do_build() {
  [[ -d "$bundle/deps/usr" ]] || { echo "no $bundle/deps: run scripts/gpu/bundle.sh first and carry .gpu"; return 1; }
  if [[ ! -f "$bundle/gtest/include/gtest/gtest.h" ]]; then
    # Built here with the local compiler: no libstdc++ mismatch with the
    # Debian-built static libraries.
    cmake -S "$bundle/deps/usr/src/googletest" -B "$bundle/gtest-build" -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$bundle/gtest" &&
      cmake --build "$bundle/gtest-build" -j "$jobs" &&
      cmake --install "$bundle/gtest-build" || return 1
  fi
  local torch_prefix
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') || return 1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
  nvcc --version | tail -n 2
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGNNREC_CUDA=ON \
    -DCMAKE_PREFIX_PATH="$bundle/gtest;$bundle/deps/usr;$torch_prefix" \
    -DGNNREC_PYTHON="$(command -v python3)" || return 1
  cmake --build "$build" -j "$jobs"
}

# Fails when the CUDA suites skipped (no device seen: they would "pass").
no_skips() {  # no_skips LOG
  if grep -q "no CUDA device" "$1"; then
    echo "CUDA tests were skipped: the test binary saw no CUDA device"
    return 1
  fi
}

do_test() {
  local rc=0
  "$build/tests/gnnrec_core_tests" --gtest_filter="$cuda_filter" 2>&1 | tee "$out/cuda_tests.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
  no_skips "$out/cuda_tests.txt" || rc=1
  if [[ "${FULL_TESTS:-1}" != 0 ]]; then
    "$build/tests/gnnrec_core_tests" --gtest_brief=1 || rc=1
  fi
  return $rc
}

sanitizer() {  # sanitizer TOOL
  PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool "$1" --error-exitcode 86 \
    "$build/tests/gnnrec_core_tests" --gtest_filter="$cuda_filter" 2>&1 |
    tee "$out/$1_output.txt"
  local rc=${PIPESTATUS[0]}
  no_skips "$out/$1_output.txt" || rc=1
  return $rc
}

do_bench() {
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  "$build/gnnrec_bench_spmm_cuda" --dataset "$dataset"
  local rc=$?
  cp bench/results/spmm_cuda_*.json "$out/" 2> /dev/null || echo "no bench/results/spmm_cuda_*.json"
  return $rc
}

do_profile() {
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  GNNREC_NVTX=1 ncu --nvtx -k regex:'rows_kernel|hub_rows_kernel' --launch-skip 20 \
    --launch-count 6 --set full -o "$out/spmm_gowalla" -f \
    "$build/gnnrec_bench_spmm_cuda" --dataset "$dataset" --no-synthetic --repeats 1 --iters 1 \
    --out "$out/profile_run.json" &&
    ncu --import "$out/spmm_gowalla.ncu-rep" --page details --section SpeedOfLight \
      --section MemoryWorkloadAnalysis
}

do_env() {
  nvidia-smi
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0))'
  nvcc --version | tail -n 2
  command -v ncu compute-sanitizer
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  ldd "$build/libgnnrec.so" | grep -E 'not found|torch_cuda|cudart|cusparse' || true
}

do_train() {
  local bin="$build/gnnrec" rc=0
  export GNNREC_NO_PLOT=1
  for model in mf lightgcn; do
    "$bin" train --model "$model" --dataset synthetic --device cuda --epochs 20 --eval-every 10 \
      --lr 0.005 --out "$out/run-synthetic-$model" --overwrite || rc=1
  done
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  if [[ -d "$dataset" ]]; then
    "$bin" train --model lightgcn --dataset "$dataset" --device cuda --epochs "${GOWALLA_EPOCHS:-3}" \
      --eval-every "${GOWALLA_EVAL_EVERY:-3}" --lr 0.001 --batch-size 2048 --dim 64 --layers 3 \
      --out "$out/run-gowalla-lightgcn" --overwrite || rc=1
  fi
  return $rc
}

do_eval() {
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  "$build/gnnrec_bench_eval" --dataset "$dataset" --device cuda
  local rc=$?
  cp bench/results/eval_cuda_*.json "$out/" 2> /dev/null || echo "no bench/results/eval_cuda_*.json"
  return $rc
}

do_models() {
  local bin="$build/gnnrec" rc=0 epochs="${MODEL_EPOCHS:-20}"
  local dataset="$bundle/data/ml-100k"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/ml-100k"
  [[ -d "$dataset" ]] || { echo "no ml-100k data"; return 1; }
  export GNNREC_NO_PLOT=1
  local common=(--dataset "$dataset" --device cuda --epochs "$epochs" --eval-every "$epochs" --quiet)
  run_model() {  # run_model NAME ARGS...
    local name=$1
    shift
    echo "== $name: $*"
    "$bin" train "${common[@]}" "$@" --out "$out/run-ml100k-$name" --overwrite || { rc=1; return; }
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); b = s["best"]; print("%s recall@20 %.4f ndcg@20 %.4f, %.3f s/epoch, eval %.3f s" % (sys.argv[2], b["recall@20"], b["ndcg@20"], s["epoch_seconds"], s["eval_seconds"]))' \
      "$out/run-ml100k-$name/summary.json" "$name"
  }
  run_model mf --model mf --lr 0.001
  run_model lightgcn --model lightgcn --lr 0.001
  run_model ngcf --model ngcf --lr 0.001
  run_model gcn --model gcn --dropout 0.1 --lr 0.01
  run_model gat --model gat --heads 4 --dropout 0.1 --attention-dropout 0.1 --lr 0.01
  run_model sage-mean --model sage --lr 0.01
  run_model sage-lstm --model sage --aggregator lstm --fanouts 10,5 --layers 2 --lr 0.01
  run_model mf-bce --model mf --loss bce --negatives 4 --lr 0.001
  return $rc
}

do_gowalla() {
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  GNNREC_NO_PLOT=1 timeout -s INT "${GOWALLA_SECONDS:-500}" "$build/gnnrec" train --model lightgcn \
    --dataset "$dataset" --device cuda --epochs "${GOWALLA_MAX_EPOCHS:-3000}" \
    --eval-every "${GOWALLA_EVAL_EVERY:-20}" --patience 0 --lr 0.001 --batch-size 2048 --dim 64 \
    --layers 3 --reg 0.0001 --out "$out/run-gowalla-long" --overwrite
  local rc=$?
  [[ $rc -eq 124 || $rc -eq 130 || $rc -eq 0 ]] || return $rc
  python3 - "$out/run-gowalla-long/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
evals = [r for r in rows if "recall@20" in json.dumps(r)]
print(len(rows), "lines;", len(evals), "with recall@20")
for r in evals[-5:]:
    print(json.dumps(r)[:400])
PY
}

do_ncu_train() {
  local dataset="$bundle/data/gowalla"
  [[ -d "$dataset" ]] || dataset="$root/../shared/data/gowalla"
  GNNREC_NVTX=1 GNNREC_NO_PLOT=1 ncu --nvtx --nvtx-include "gnnrec::train::forward/" \
    --nvtx-include "gnnrec::train::backward/" --nvtx-include "gnnrec::train::step/" \
    --launch-skip 300 --launch-count 120 --metrics gpu__time_duration.sum \
    --print-summary per-kernel "$build/gnnrec" train --model lightgcn --dataset "$dataset" \
    --device cuda --epochs 1 --eval-every 1 --out /tmp/ncu-train-run --overwrite
}

do_nccl() {
  local bin="$build/gnnrec" rc=0 device="${DEVICE:-cuda}" backend=nccl
  [[ "$device" == cpu ]] && backend=gloo
  export GNNREC_NO_PLOT=1
  local common=(--dataset synthetic --device "$device" --epochs 3 --eval-every 3 --lr 0.005 --overwrite --quiet)
  for model in mf lightgcn; do
    for shard in "" --shard-embeddings; do
      local name="nccl-$model${shard:+-sharded}"
      "$bin" train --model "$model" "${common[@]}" --out "$out/$name-plain" || { rc=1; continue; }
      RANK=0 LOCAL_RANK=0 WORLD_SIZE=1 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29531 \
        "$bin" train --model "$model" "${common[@]}" $shard --out "$out/$name" || { rc=1; continue; }
      python3 - "$out/$name-plain" "$out/$name" "$backend" << 'PY' || rc=1
import json, math, sys
plain, dist = (json.load(open(f"{d}/summary.json")) for d in sys.argv[1:3])
assert dist["backend"] == sys.argv[3] and dist["world_size"] == 1, (dist["backend"], dist["world_size"])
for k, v in plain["best"].items():
    if isinstance(v, float):
        assert math.isclose(v, dist["best"][k], rel_tol=1e-4, abs_tol=1e-6), (k, v, dist["best"][k])
print(sys.argv[2], "agrees with the run without torchrun's variables over", sys.argv[3])
PY
    done
  done
  return $rc
}

do_pytest() {
  GNNREC_BIN="$build/gnnrec" GNNREC_LIBRARY="$build/libgnnrec.so" PYTHONPATH="$root/python" \
    GNNREC_NO_PLOT=1 python3 -m pytest -q -x -p no:cacheprovider tests/python
}

stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(build test sanitize bench)
{ date; nvidia-smi -L 2>&1; } >> "$summary"
for s in "${stages[@]}"; do
  case "$s" in
    build) stage build do_build ;;
    test) stage test do_test ;;
    sanitize)
      stage memcheck sanitizer memcheck
      stage racecheck sanitizer racecheck
      ;;
    memcheck | racecheck) stage "$s" sanitizer "$s" ;;
    bench) stage bench do_bench ;;
    profile) stage profile do_profile ;;
    env) stage env do_env ;;
    train) stage train do_train ;;
    pytest) stage pytest do_pytest ;;
    nccl) stage nccl do_nccl ;;
    models) stage models do_models ;;
    eval) stage eval do_eval ;;
    gowalla) stage gowalla do_gowalla ;;
    ncu-train) stage ncu-train do_ncu_train ;;
    *) echo "unknown stage $s (build, test, sanitize, bench, profile, env, train, pytest, nccl, models, eval, gowalla, ncu-train)"; failed=1 ;;
  esac
done
echo "summary ($summary):"
cat "$summary"
exit $failed
