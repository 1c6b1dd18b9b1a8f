#!/usr/bin/env bash
# Run HERE: copies the binaries of a CUDA-enabled build (default build-cuda/,
# built by `make build BUILD=build-cuda`) into .gpu/build/, stripped, in the
# build folder's own layout, so the GPU machine can run them without
# building (a build there costs minutes of scarce device time). They link
# against torch 2.11.0+cu130, the same version the GPU machine's python3 has;
# run_checks.sh points LD_LIBRARY_PATH at that torch's libraries when
# PREBUILT=1. Both machines are x86-64 with a glibc at least as new as this
# one's, so binaries made here run there.
#
#   scripts/gpu/prebuilt.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
src="${1:-build-cuda}"
dst="$root/.gpu/build"
[[ -f "$src/libgnnrec.so" ]] || { echo "no $src/libgnnrec.so: build it first" >&2; exit 1; }
grep -q 'GNNREC_CUDA:BOOL=ON' "$src/CMakeCache.txt" || { echo "$src is not a CUDA build" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst/tests"
for f in gnnrec libgnnrec.so gnnrec_bench_spmm_cuda gnnrec_bench_eval gnnrec_bench_spmm tests/gnnrec_core_tests tests/gnnrec_data_tests; do
  [[ -f "$src/$f" ]] && strip -o "$dst/$f" "$src/$f"
done
git rev-parse HEAD > "$dst/COMMIT"
git status --short > "$dst/DIRTY"
du -sh "$dst"
