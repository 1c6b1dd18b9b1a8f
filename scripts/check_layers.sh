#!/usr/bin/env bash
# Include-order check (the layers of gnnrec: data flows top to bottom,
# dependencies point down; .ci/run runs it before the build):
#
#   base <- kernels <- graph <- samplers <- models <- train <- (cli, python, serve, bench, fuzz, tests)
#
#   scripts/check_layers.sh [ROOT]     checks the tree at ROOT (default: this checkout)
#   scripts/check_layers.sh --self-test
#                                      runs the check on small temporary trees and
#                                      fails unless it passes the good one and
#                                      catches every planted violation
#
# Every .cpp/.h/.cu/.cuh file under base/ kernels/ graph/ samplers/ models/
# train/ (train/cli/ apart: the command line is a door, at the top) is read,
# and each violation is printed as FILE:LINE: WHAT; the exit status is 1 if
# there is any. The rules:
#   1. A file includes (#include "DIR/...") only its own layer or one below
#      it; a layer above it, or a folder outside the layers (bench/, fuzz/,
#      tests/, cli/, python/, serve/, train/cli/), is a violation.
#   2. base/ and graph/ build without Torch, and the CUDA sources (*.cu,
#      *.cuh) include no Torch header (nvcc stays fast): such a file, and
#      every file of ours it includes, directly or not, includes no
#      <torch/...>, <ATen/...>, <c10/...> or <caffe2/...> header.
# Only `#include "..."` lines of our own folders are followed; system and
# third-party headers are not read.
set -euo pipefail
export LC_ALL=C

layers=(base kernels graph samplers models train)
# The doors and the tools beside them: above every layer.
tops=(cli python serve bench fuzz tests)
torch_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](torch|ATen|c10|caffe2)/'
include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)"'

# The layer index of a path inside the tree ("" outside the layers), the
# top (len(layers)) for the doors.
rank_of() {
  local path=$1 i
  case "$path" in train/cli/*) echo "${#layers[@]}"; return ;; esac
  for i in "${!layers[@]}"; do
    [[ "$path" == "${layers[$i]}/"* ]] && { echo "$i"; return; }
  done
  for i in "${tops[@]}"; do
    [[ "$path" == "$i/"* ]] && { echo "${#layers[@]}"; return; }
  done
  echo ""
}

name_of() {  # a rank's name in the messages
  if [[ $1 -lt ${#layers[@]} ]]; then echo "${layers[$1]}/"; else echo "the doors (${tops[*]}, train/cli)"; fi
}

# check ROOT: prints FILE:LINE: WHAT for every violation under ROOT; returns 1 if any.
check() {
  local root=$1 bad=0 file rank line text target trank
  local -A torch_free_memo=()
  local files=()
  while IFS= read -r -d '' file; do files+=("${file#"$root"/}"); done < <(
    cd "$root" && find "${layers[@]/#/$root/}" -type f \
      \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -print0 2>/dev/null | sort -z)

  # torch_path FILE: empty if FILE and what it includes of ours are Torch-free,
  # else "FILE:LINE" of the first Torch include found (FILE itself or below).
  torch_path() {
    local f=$1 n=0 l inc hit
    if [[ -n "${torch_free_memo[$f]+x}" ]]; then echo "${torch_free_memo[$f]}"; return; fi
    torch_free_memo[$f]=""  # cycles (a header included back) end here
    [[ -f "$root/$f" ]] || return 0
    while IFS= read -r l || [[ -n "$l" ]]; do
      n=$((n + 1))
      if [[ "$l" =~ $torch_re ]]; then torch_free_memo[$f]="$f:$n"; echo "$f:$n"; return; fi
      if [[ "$l" =~ $include_re ]]; then
        inc=${BASH_REMATCH[1]}
        [[ -n "$(rank_of "$inc")" ]] || continue
        hit=$(torch_path "$inc")
        if [[ -n "$hit" ]]; then torch_free_memo[$f]="$f:$n -> $hit"; echo "$f:$n -> $hit"; return; fi
      fi
    done < "$root/$f"
  }

  for file in "${files[@]}"; do
    rank=$(rank_of "$file")
    [[ $rank -lt ${#layers[@]} ]] || continue  # train/cli: a door, may include anything
    line=0
    while IFS= read -r text || [[ -n "$text" ]]; do
      line=$((line + 1))
      [[ "$text" =~ $include_re ]] || continue
      target=${BASH_REMATCH[1]}
      trank=$(rank_of "$target")
      [[ -n "$trank" ]] || continue  # not one of our folders
      if [[ $trank -gt $rank ]]; then
        echo "$file:$line: includes $target: $(name_of "$trank") is above $(name_of "$rank")"
        bad=1
      fi
    done < "$root/$file"
    local layer=${layers[$rank]}
    if [[ $layer == base || $layer == graph || $file == *.cu || $file == *.cuh ]]; then
      local hit
      hit=$(torch_path "$file")
      if [[ -n "$hit" ]]; then
        local why="$layer/ builds without Torch"
        [[ $file == *.cu || $file == *.cuh ]] && why="CUDA sources include no Torch header"
        echo "${hit%% -> *}: reaches a Torch header (${hit}): $why"
        bad=1
      fi
    fi
  done
  return $bad
}

self_test() {
  local tmp out failed=0
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp"/{base,kernels/cuda,graph,samplers,models,train/cli,tests}
  printf '#include <cstdint>\n' > "$tmp/base/random.h"
  printf '#include <ATen/core/Tensor.h>\n#include "base/random.h"\n' > "$tmp/kernels/ops.h"
  printf '#include <cuda_runtime.h>\n#include "base/random.h"\n' > "$tmp/kernels/cuda/launchers.h"
  printf '#include "kernels/cuda/launchers.h"\n' > "$tmp/kernels/cuda/spmm.cu"
  printf '#include <vector>\n#include "base/random.h"\n' > "$tmp/graph/splits.h"
  printf '#include "graph/splits.h"\n#include "kernels/ops.h"\n' > "$tmp/models/model.h"
  printf '#include "models/model.h"\n' > "$tmp/train/trainer.h"
  printf '#include "train/trainer.h"\n#include "tests/x.h"\n' > "$tmp/train/cli/main.cpp"
  printf '#include "train/trainer.h"\n' > "$tmp/tests/x.h"
  if ! out=$(check "$tmp"); then
    echo "self-test: the good tree fails:"; echo "$out"; return 1
  fi
  # expect FILE LINE-TO-ADD FRAGMENT: adds the line to FILE, expects FRAGMENT in the report.
  expect() {
    local file=$1 add=$2 fragment=$3 saved
    saved=$(cat "$tmp/$file" 2>/dev/null || true)
    printf '%s\n' "$add" >> "$tmp/$file"
    if out=$(check "$tmp"); then
      echo "self-test: not caught: '$add' in $file"; failed=1
    elif [[ "$out" != *"$fragment"* ]]; then
      echo "self-test: '$add' in $file: expected '$fragment' in:"; echo "$out"; failed=1
    fi
    if [[ -n "$saved" ]]; then printf '%s\n' "$saved" > "$tmp/$file"; else rm -f "$tmp/$file"; fi
  }
  expect graph/splits.h '#include "models/model.h"' \
    'graph/splits.h:3: includes models/model.h: models/ is above graph/'
  expect kernels/ops.h '#include "samplers/random.h"' \
    'kernels/ops.h:3: includes samplers/random.h: samplers/ is above kernels/'
  expect models/model.h '#include "train/run_dir.h"' 'models/model.h:3: includes train/run_dir.h'
  expect train/trainer.h '#include "train/cli/config_file.h"' 'train/trainer.h:2: includes train/cli/config_file.h'
  expect samplers/x.cpp '#include "tests/x.h"' 'samplers/x.cpp:1: includes tests/x.h'
  expect train/serving.cpp '#include "serve/service.h"' 'train/serving.cpp:1: includes serve/service.h'
  expect base/random.h '#include <ATen/ATen.h>' 'base/random.h:2: reaches a Torch header'
  expect graph/splits.h '#include "kernels/ops.h"' 'graph/splits.h:3: reaches a Torch header (graph/splits.h:3 -> kernels/ops.h:1)'
  expect graph/loaders.cpp '#  include <torch/library.h>' 'graph/loaders.cpp:1: reaches a Torch header'
  expect kernels/cuda/launchers.h '#include "kernels/ops.h"' \
    'kernels/cuda/spmm.cu:1: reaches a Torch header (kernels/cuda/spmm.cu:1 -> kernels/cuda/launchers.h:3 -> kernels/ops.h:1)'
  [[ $failed -eq 0 ]] && echo "check_layers self-test: ok"
  return $failed
}

if [[ "${1:-}" == --self-test ]]; then
  self_test
  exit $?
fi
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
if out=$(check "$root"); then
  echo "check_layers: every include follows the layer order (${layers[*]})"
else
  echo "$out"
  echo "check_layers: includes against the layer order (${layers[*]}; see scripts/check_layers.sh)"
  exit 1
fi
