// The TOML file of `gnnrec train --config FILE` (train/cli/config_file.h):
// expand_config either returns the flags it expands to or throws
// std::invalid_argument naming "--config FILE".
#include "fuzz/fuzz_util.h"
#include "train/cli/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  const std::string dir = fresh_dir("config");
  const std::string path =
      write_file(dir, "run.toml", std::string_view(reinterpret_cast<const char*>(data), size));
  const std::vector<std::string> args = {"train", "--config", path, "--lr", "0.01"};
  expect_clean([&] {
    const std::vector<std::string> out = gnnrec::expand_config(args);
    // The command line is kept, after the subcommand and the expanded keys.
    if (out.size() < args.size() || out.front() != "train" ||
        !std::equal(args.begin() + 1, args.end(), out.end() - (args.size() - 1))) {
      finding("expand_config lost the command line");
    }
    for (size_t k = 1; k + (args.size() - 1) < out.size(); ++k) {
      if (out[k].rfind("--", 0) != 0) finding("an expanded key is not a flag: " + out[k]);
      if (out[k].rfind("--lr=", 0) == 0) finding("a config key overrode a command-line flag");
    }
  }, "--config " + path, /*allow_invalid_argument=*/true);
  return 0;
}
