#!/usr/bin/env bash
# Run HERE (a machine with apt and network, no GPU needed): prepares what the
# GPU machine lacks, in the git-ignored folder .gpu/ of this checkout:
#   .gpu/deps/   GoogleTest + GoogleMock (headers, static libs, CMake configs,
#                and the googletest sources, which run_checks.sh builds there
#                with the local compiler), CLI11, nlohmann-json, toml++ and
#                Google Benchmark (whose presence enables bench/), unpacked from the
#                Debian packages with `apt-get download` + `dpkg -x`;
#   .gpu/data/   the Gowalla data set, for the CUDA SpMM benchmark.
# The GPU machine has python3 with torch 2.11.0+cu130, nvcc, cmake, ninja,
# ncu and compute-sanitizer, but no network and none of those headers.
#
#   scripts/gpu/bundle.sh [--no-build]
#
# First builds the project here in build-cuda/ (a compile check of every
# CUDA source; --no-build skips it), then downloads and unpacks, then checks
# with a throwaway CMake project in a temporary folder that a configure with
# only the .gpu/deps prefix (system paths switched off) finds GTest, CLI11,
# nlohmann_json, benchmark and toml++'s header, and that a GoogleTest
# program links.
#
# On the GPU session, carry `.gpu` (the run tool's `carry` list) and run
# scripts/gpu/run_checks.sh there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bundle="$root/.gpu"
build=true
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
  esac
done

if $build; then
  echo "== build (compile check) in build-cuda/"
  make build BUILD=build-cuda
fi

# Anything a previous GPU run left (its own googletest build, logs) is not
# carried back: the GPU machine rebuilds googletest with its own compiler.
rm -rf "$bundle/gtest" "$bundle/gtest-build" "$bundle/out"

echo "== Debian packages -> $bundle/deps"
packages=(libgtest-dev libgmock-dev googletest libcli11-dev nlohmann-json3-dev
          libtomlplusplus-dev libbenchmark-dev libbenchmark1debian)
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
(cd "$debs" && apt-get download "${packages[@]}")
rm -rf "$bundle/deps"
mkdir -p "$bundle/deps"
for deb in "$debs"/*.deb; do
  echo "   $(basename "$deb")"
  dpkg -x "$deb" "$bundle/deps"
done

echo "== data -> $bundle/data"
# Gowalla (SpMM benchmark, LightGCN training) and MovieLens 100K (the other
# models' short GPU runs), about 8 MB together.
shared_data="$root/../shared/data"
rm -rf "$bundle/data"
mkdir -p "$bundle/data"
for set in gowalla ml-100k; do
  if [[ -d "$shared_data/$set" ]]; then
    cp -r "$shared_data/$set" "$bundle/data/"
  else
    echo "   $shared_data/$set not found: the GPU runs will skip it"
  fi
done

echo "== check: a configure with only $bundle/deps/usr finds every package"
probe=$(mktemp -d)
trap 'rm -rf "$debs" "$probe"' EXIT
cat > "$probe/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(gnnrec_bundle_probe LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
# Packages may come only from CMAKE_PREFIX_PATH (the bundle): the system's
# own copies (this machine has them installed) are hidden from here on.
set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH OFF)
set(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH OFF)
set(CMAKE_FIND_USE_PACKAGE_REGISTRY OFF)
set(CMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY OFF)
find_package(GTest REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(benchmark REQUIRED)
# toml++ is used header-only (as CMakeLists.txt finds it).
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
set(TOMLPP_DIR "${TOMLPP_INCLUDE_DIR}")
foreach(dir GTest_DIR CLI11_DIR nlohmann_json_DIR benchmark_DIR TOMLPP_DIR)
  message(STATUS "${dir} = ${${dir}}")
  if(NOT "${${dir}}" MATCHES "^${BUNDLE_PREFIX}")
    message(FATAL_ERROR "${dir} is outside the bundle: ${${dir}}")
  endif()
endforeach()
add_executable(probe probe.cpp)
target_link_libraries(probe PRIVATE GTest::gtest_main CLI11::CLI11 nlohmann_json::nlohmann_json)
target_include_directories(probe SYSTEM PRIVATE ${TOMLPP_INCLUDE_DIR})
CMAKE
cat > "$probe/probe.cpp" <<'CPP'
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>
TEST(Bundle, HeadersAndLibrariesWork) {
  CLI::App app{"probe"};
  EXPECT_EQ(toml::parse("a = 1")["a"].value<int>(), 1);
  EXPECT_EQ(nlohmann::json::parse("{\"a\": 1}")["a"].get<int>(), 1);
}
CPP
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$probe" -B "$probe/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$bundle/deps/usr" -DBUNDLE_PREFIX="$bundle/deps/usr" \
  > "$probe/configure.log" 2>&1 || { cat "$probe/configure.log"; exit 1; }
grep -E "_DIR = " "$probe/configure.log"
cmake --build "$probe/build" > "$probe/build.log" 2>&1 || { cat "$probe/build.log"; exit 1; }
"$probe/build/probe" --gtest_brief=1

echo "== check: the bundled googletest sources build (as run_checks.sh does on the GPU machine)"
cmake -S "$bundle/deps/usr/src/googletest" -B "$probe/gtest-build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$probe/gtest" > "$probe/gtest.log" 2>&1 \
  && cmake --build "$probe/gtest-build" -j "$(nproc)" >> "$probe/gtest.log" 2>&1 \
  && cmake --install "$probe/gtest-build" >> "$probe/gtest.log" 2>&1 \
  || { cat "$probe/gtest.log"; exit 1; }
ls "$probe/gtest/lib"*/libgtest.a > /dev/null

du -sh "$bundle"
echo "bundle ready: carry .gpu to the GPU machine and run scripts/gpu/run_checks.sh there"
