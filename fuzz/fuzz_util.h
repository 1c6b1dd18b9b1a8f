// Shared by the libFuzzer targets in fuzz/: a per-process scratch folder
// the targets write their input files into, the splitting of one input into
// several files, and the check that a loader failed cleanly.
//
// Contract checked by every target: a loader either returns or throws the
// project's own error (gnnrec::DataError, or std::invalid_argument for the
// CLI's option parsing) whose what() is one non-empty line naming the file
// it read. Any other exception, a message that breaks that rule, a crash, a
// sanitizer report or a hang is a finding: the target aborts (libFuzzer then
// writes the input to crash-*).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unistd.h>
#include <vector>

#include "graph/interactions.h"
#include "graph/kg_loaders.h"
#include "graph/loaders.h"
#include "graph/typed_graph.h"

namespace gnnrec_fuzz {

// A scratch folder for this process, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    // $TMPDIR when set, else /dev/shm (memory: 20x the speed of a disk-backed
    // /tmp here), else /tmp.
    const char* env = std::getenv("TMPDIR");
    std::string base = env != nullptr && *env != '\0' ? env : "/tmp";
    if (env == nullptr && access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    std::string tmpl = base + "/gnnrec-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static struct Cleanup {
      std::string dir;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    } cleanup{tmpl};
    return tmpl;
  }();
  return dir;
}

// A folder inside scratch_dir(), created on first use; the targets write
// every file a loader may read on each input (write_file or remove_file).
inline std::string fresh_dir(const std::string& name) {
  const std::string dir = scratch_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

inline void remove_file(const std::string& dir, const std::string& name) {
  std::remove((dir + "/" + name).c_str());
}

inline std::string write_file(const std::string& dir, const std::string& name,
                              std::string_view contents) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// Splits the input at NUL bytes into at most `max_parts` files' contents
// (the last part keeps any further NULs). Seeds write "file1\0file2\0...".
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size,
                                                 size_t max_parts) {
  std::vector<std::string_view> parts;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (parts.size() + 1 < max_parts) {
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  parts.push_back(rest);
  return parts;
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==gnnrec-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The message of a clean error: one non-empty line that mentions `place`
// (the scratch folder for the loaders, "--config" for the config file).
inline void check_message(const char* kind, const std::string& msg, const std::string& place) {
  // GNNREC_FUZZ_VERBOSE=1 prints each clean rejection (to check the seeds).
  static const bool verbose = std::getenv("GNNREC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "rejected: %s\n", msg.c_str());
  if (msg.empty()) finding(std::string(kind) + " with an empty message");
  if (msg.find('\n') != std::string::npos) finding(std::string(kind) + " over several lines: " + msg);
  if (msg.find(place) == std::string::npos) {
    finding(std::string(kind) + " that does not name the input (" + place + "): " + msg);
  }
}

// Runs `fn`; a DataError (or, when `allow_invalid_argument`, an
// std::invalid_argument) naming `place` is a clean rejection, anything else
// thrown is a finding.
template <typename Fn>
void expect_clean(Fn&& fn, const std::string& place, bool allow_invalid_argument = false) {
  try {
    fn();
  } catch (const gnnrec::DataError& e) {
    check_message("DataError", e.what(), place);
  } catch (const std::invalid_argument& e) {
    if (!allow_invalid_argument) finding(std::string("std::invalid_argument: ") + e.what());
    check_message("std::invalid_argument", e.what(), place);
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    finding("unexpected non-std exception");
  }
}

// Invariants of a loaded Dataset: dense ids in range, optional columns as
// long as the id columns.
inline void check_dataset(const gnnrec::Dataset& ds) {
  for (const gnnrec::Interactions* x : {&ds.train, &ds.test}) {
    if (x->item.size() != x->size()) finding("user and item columns differ in length");
    if (x->has_rating() && x->rating.size() != x->size()) finding("rating column length");
    if (x->has_timestamp() && x->timestamp.size() != x->size()) finding("timestamp column length");
    for (size_t e = 0; e < x->size(); ++e) {
      if (x->user[e] < 0 || x->user[e] >= ds.num_users()) finding("user id out of range");
      if (x->item[e] < 0 || x->item[e] >= ds.num_items()) finding("item id out of range");
    }
  }
}

// Invariants of a loaded TypedGraph: every relation's CSR and CSC are well
// formed over its node types; merged() of each type works.
inline void check_csr(const std::vector<int64_t>& offsets, const std::vector<int32_t>& idx,
                      int64_t rows, int64_t cols) {
  if (static_cast<int64_t>(offsets.size()) != rows + 1) finding("CSR offsets length");
  if (offsets.front() != 0 || offsets.back() != static_cast<int64_t>(idx.size())) {
    finding("CSR offsets ends");
  }
  for (size_t r = 0; r + 1 < offsets.size(); ++r) {
    if (offsets[r] > offsets[r + 1]) finding("CSR offsets decrease");
  }
  for (int32_t c : idx) {
    if (c < 0 || c >= cols) finding("CSR index out of range");
  }
}

inline void check_graph(const gnnrec::TypedGraph& g) {
  for (int32_t r = 0; r < g.num_relations(); ++r) {
    const gnnrec::RelationStore& s = g.relation(r);
    const int64_t ns = g.num_nodes(s.src_type), nd = g.num_nodes(s.dst_type);
    check_csr(s.offsets, s.dst, ns, nd);
    check_csr(s.t_offsets, s.src, nd, ns);
    if (s.csc_to_csr.size() != s.src.size()) finding("csc_to_csr length");
  }
  for (int32_t t = 0; t < g.num_node_types(); ++t) {
    const gnnrec::MergedAdjacency m = g.merged(t);
    check_csr(m.offsets, m.neighbor, g.num_nodes(t), g.num_nodes(t));
  }
}

// The multi-file targets: the input's NUL-separated parts become the files
// `names` of a fresh folder `folder` (a missing part is a missing file),
// which goes through load_dataset (format detection included) and
// load_side_graph.
template <size_t N>
void fuzz_dataset_folder(const uint8_t* data, size_t size, const std::string& folder,
                         const char* const (&names)[N]) {
  const auto parts = split_parts(data, size, N);
  const std::string dir = fresh_dir(folder);
  for (size_t k = 0; k < N; ++k) {
    if (k < parts.size()) write_file(dir, names[k], parts[k]);
    else remove_file(dir, names[k]);
  }
  expect_clean([&] {
    const gnnrec::Dataset ds = gnnrec::load_dataset(dir);
    check_dataset(ds);
    if (auto g = gnnrec::load_side_graph(dir, ds)) check_graph(*g);
  }, dir);
}

}  // namespace gnnrec_fuzz
