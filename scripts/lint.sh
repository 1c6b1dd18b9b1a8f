#!/usr/bin/env bash
# Lint gate: clang-format (.clang-format) on the C++ lines a change touches,
# and clang-tidy (.clang-tidy) on C++ sources.
#
#   scripts/lint.sh [BASE]
#
# The change is BASE against the working tree (committed, staged and
# unstaged edits; untracked files are not seen). BASE defaults to:
#   - the merge-base with origin/main, when that remote branch exists and the
#     merge-base is not HEAD itself (a branch under review: all its commits);
#   - otherwise HEAD~1, the last commit (its first parent for a merge). This
#     is CI's case: a fresh clone whose HEAD is the tip of main, so the gate
#     checks what the newest commit brought in. To check several commits
#     pushed at once, pass the last commit CI has seen as BASE.
#   - A commit without a parent (a shallow clone of depth 1 looks like one)
#     has no change to measure: the script stops with an error rather than
#     pass without checking; fetch more history or pass BASE.
#
# clang-format: clang-format-diff on `git diff -U0 BASE` (*.cpp *.h *.cu
# *.cuh). Only the touched lines are checked: the tree predates
# .clang-format, and formatting all of it would rewrite about 950 lines. Any
# difference fails the gate and is printed as a patch; to apply it:
#   git diff -U0 BASE | clang-format-diff -p1 -iregex '.*\.(cpp|h|cu|cuh)' -i
#
# clang-tidy: LINT_TIDY selects the files:
#   changed (default)  the changed .cpp files, plus foo.cpp beside a changed
#                      foo.h (headers are checked through the sources that
#                      include them);
#   all                every .cpp file in the compilation database;
#   none               skip clang-tidy.
# It reads $BUILD/compile_commands.json (BUILD defaults to build/; `make
# configure` or `make test` writes it). Files outside it are skipped with a
# note: the .cu sources (nvcc flags; clang-tidy would need CUDA set up), fuzz/
# (its own clang project, fuzzed with sanitizers instead), and CUDA-only or
# benchmark sources when the build has them off. The precompiled header of
# gnnrec_core is g++'s (.gch), which clang cannot read: the database is
# copied with `-include cmake_pch.hxx` pointing at a copy of that header
# without its .gch, so clang parses the same includes as text.
#
# Exits 1 on any finding (.clang-tidy makes every enabled warning an error).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

BUILD="${BUILD:-build}"
LINT_TIDY="${LINT_TIDY:-changed}"
log() { echo "lint: $*" >&2; }

# clang-format and clang-tidy (Debian's clang 14 packages), installed when
# missing; libomp-dev gives clang an omp.h (tests include it).
need_pkgs=()
command -v clang-format >/dev/null 2>&1 || need_pkgs+=(clang-format)
command -v clang-tidy >/dev/null 2>&1   || need_pkgs+=(clang-tidy)
compgen -G "/usr/lib/llvm-*/lib/clang/*/include/omp.h" >/dev/null || need_pkgs+=(libomp-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >&2
fi
format_diff=$(command -v clang-format-diff || command -v clang-format-diff-14 || true)
[ -n "$format_diff" ] || { log "clang-format-diff not found (package clang-format)"; exit 2; }

# --- the change ------------------------------------------------------------
if [ $# -ge 1 ]; then
  base=$(git rev-parse --verify "$1^{commit}")
elif git rev-parse --verify -q origin/main >/dev/null &&
     [ "$(git merge-base HEAD origin/main)" != "$(git rev-parse HEAD)" ]; then
  base=$(git merge-base HEAD origin/main)
elif git rev-parse --verify -q HEAD~1 >/dev/null; then
  base=$(git rev-parse HEAD~1)
else
  log "HEAD has no parent (a shallow clone?): nothing to measure the change against;"
  log "fetch more history (git fetch --deepen=1) or pass BASE"
  exit 2
fi
log "checking the change from $(git rev-parse --short "$base") to the working tree"
cxx=('*.cpp' '*.h' '*.cu' '*.cuh')
failed=0
start=$(date +%s)

# --- clang-format on the touched lines ----------------------------------------
fmt=$(git diff -U0 --no-color --no-ext-diff --diff-filter=d "$base" -- "${cxx[@]}" |
      "$format_diff" -p1 -iregex '.*\.(cpp|h|cu|cuh)')
if [ -n "$fmt" ]; then
  printf '%s\n' "$fmt"
  log "clang-format: the lines above differ from .clang-format's layout"
  log "  apply: git diff -U0 $(git rev-parse --short "$base") | $(basename "$format_diff") -p1 -iregex '.*\\.(cpp|h|cu|cuh)' -i"
  failed=1
else
  log "clang-format: the touched lines are formatted"
fi
log "clang-format took $(( $(date +%s) - start )) s"

# --- clang-tidy -------------------------------------------------------------
if [ "$LINT_TIDY" = none ]; then
  log "clang-tidy: skipped (LINT_TIDY=none)"
  exit $failed
fi
db="$BUILD/compile_commands.json"
[ -f "$db" ] || { log "$db missing: configure first (make configure, or make test)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The database without g++'s precompiled headers (see above), and the list
# of .cpp files it holds (relative paths).
python3 - "$db" "$tmp" "$PWD" <<'EOF'
import json, os, re, shutil, sys
db, tmp, root = sys.argv[1:]
entries = json.load(open(db))
pch = re.compile(r"-include (\S*/(\w+)\.dir/cmake_pch\.hxx)")
def unpch(m):
    copy = os.path.join(tmp, "pch", m.group(2), "cmake_pch.hxx")
    if not os.path.exists(copy):
        os.makedirs(os.path.dirname(copy))
        shutil.copy(m.group(1), copy)
    return "-include " + copy
files = []
for e in entries:
    e["command"] = pch.sub(unpch, e["command"]).replace(" -Winvalid-pch", "")
    path = os.path.relpath(os.path.join(e["directory"], e["file"]), root)
    if path.endswith(".cpp"):
        files.append(path)
json.dump(entries, open(os.path.join(tmp, "compile_commands.json"), "w"))
open(os.path.join(tmp, "files"), "w").write("".join(f + "\n" for f in sorted(set(files))))
EOF

case "$LINT_TIDY" in
  all) cp "$tmp/files" "$tmp/wanted" ;;
  changed)
    git diff --name-only --no-ext-diff --diff-filter=d "$base" -- '*.cpp' '*.h' |
      sed 's/\.h$/.cpp/' | sort -u |
      while read -r f; do [ -f "$f" ] && echo "$f"; done > "$tmp/wanted" ;;
  *) log "LINT_TIDY must be changed, all or none, got '$LINT_TIDY'"; exit 2 ;;
esac
comm -12 "$tmp/wanted" "$tmp/files" > "$tmp/run"
comm -23 "$tmp/wanted" "$tmp/files" | grep -v '^$' | sed 's/^/lint: clang-tidy: not in the compilation database, skipped: /' >&2 || true
n=$(wc -l < "$tmp/run")
if [ "$n" -eq 0 ]; then
  log "clang-tidy: no .cpp file to check"
  exit $failed
fi
log "clang-tidy: $n file(s), $(nproc) at a time"
t0=$(date +%s)
# One process per file, in parallel, each into its own log (printed in file
# order afterwards, without clang-tidy's "N warnings generated" lines).
mkdir "$tmp/log"
if ! xargs -P "$(nproc)" -I{} sh -c \
    'clang-tidy --quiet -p "$0" "$1" > "$0/log/$(echo "$1" | tr / _).log" 2>&1' "$tmp" {} \
    < "$tmp/run"; then
  failed=1
fi
while read -r f; do
  grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' \
    "$tmp/log/$(echo "$f" | tr / _).log" || true
done < "$tmp/run"
log "clang-tidy took $(( $(date +%s) - t0 )) s"
[ $failed -eq 0 ] && log "clean" || log "findings above"
exit $failed
