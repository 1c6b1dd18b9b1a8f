#!/usr/bin/env bash
# Installs what gnnrec needs on a fresh Debian machine, idempotently:
#   - Debian packages, only those missing (apt-get);
#   - a Python virtual environment with the pinned torch wheel (and the
#     reference libraries the benchmarks compare against), cached OUTSIDE the
#     clone so a second run, or CI on the same machine, downloads nothing;
#   - extras (matplotlib, scikit-build-core) into that venv, behind their own
#     stamp, so an existing venv gains them without being recreated.
# Prints the venv path on its last line.
set -euo pipefail

TORCH_VERSION=2.11.0
PYG_VERSION=2.8.1
CACHE_ROOT="${GNNREC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gnnrec}"
PY="${GNNREC_PYTHON:-python3}"
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
VENV="${GNNREC_VENV:-$CACHE_ROOT/venv-torch$TORCH_VERSION-py$PYVER}"

log() { echo "bootstrap: $*" >&2; }

# --- Debian packages -------------------------------------------------------
need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have cmake   || need_pkgs+=(cmake)
have ninja   || need_pkgs+=(ninja-build)
have ccache  || need_pkgs+=(ccache)
have g++     || need_pkgs+=(g++)
[ -f /usr/include/gtest/gtest.h ]         || need_pkgs+=(libgtest-dev)
[ -f /usr/include/benchmark/benchmark.h ] || need_pkgs+=(libbenchmark-dev)
[ -f /usr/include/CLI/CLI.hpp ]           || need_pkgs+=(libcli11-dev)
[ -f /usr/include/nlohmann/json.hpp ]     || need_pkgs+=(nlohmann-json3-dev)
[ -f /usr/include/toml++/toml.h ]         || need_pkgs+=(libtomlplusplus-dev)
[ -f /usr/include/hnswlib/hnswlib.h ]     || need_pkgs+=(libhnswlib-dev)
[ -f /usr/include/gloo/config.h ]         || need_pkgs+=(libgloo-dev)
[ -f /usr/include/httplib.h ]             || need_pkgs+=(libcpp-httplib-dev)
[ -f /usr/lib/x86_64-linux-gnu/libgomp.so.1 ] || need_pkgs+=(libgomp1)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

# --- Python virtual environment with pinned torch ------------------------
stamp="$VENV/.gnnrec-complete"
if [ ! -f "$stamp" ]; then
  # An unfinished venv (interrupted download) has no stamp: start it over.
  log "creating $VENV (torch==$TORCH_VERSION; a few GB on first run)"
  rm -rf "$VENV"
  mkdir -p "$CACHE_ROOT"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
      "torch==$TORCH_VERSION" "torch_geometric==$PYG_VERSION" numpy pytest >&2
  touch "$stamp"
fi

# --- Extras added after the torch venv existed ------------------------------
# A separate stamp, so an existing venv gains them without being recreated:
# matplotlib (python -m gnnrec.plot) and scikit-build-core (pip install .).
extras_stamp="$VENV/.gnnrec-extras-1"
if [ ! -f "$extras_stamp" ]; then
  log "installing extras into $VENV: matplotlib scikit-build-core"
  "$VENV/bin/pip" install -q --disable-pip-version-check matplotlib scikit-build-core >&2
  touch "$extras_stamp"
fi
echo "$VENV"
