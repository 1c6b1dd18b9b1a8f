// The TOML file of `gnnrec train --config FILE` (train/cli/config_file.h,
// toml++): expand_config either returns the flags it expands to or throws
// std::invalid_argument, one line naming "--config FILE". The keys are a few
// of every kind the CLI declares (the CLI's own table needs Torch); `epochs`
// has a range check, as the CLI's rows do.
#include <stdexcept>

#include "fuzz/fuzz_util.h"
#include "train/cli/config_file.h"

namespace {

gnnrec::ConfigKeys fuzz_keys() {
  using gnnrec::ConfigKind;
  gnnrec::ConfigKeys keys;
  for (const char* k : {"model", "dataset", "out", "loss", "aggregator"}) {
    keys[k].kind = ConfigKind::kString;
  }
  for (const char* k : {"dim", "batch-size", "seed"}) keys[k].kind = ConfigKind::kInteger;
  keys["epochs"].kind = ConfigKind::kInteger;
  keys["epochs"].check = [](const std::string& name, const std::string& text) {
    if (text.size() > 4 || text[0] == '-' || text == "0") {
      throw std::invalid_argument(name + " must be in [1, 9999], got " + text);
    }
  };
  for (const char* k : {"lr", "reg", "dropout"}) keys[k].kind = ConfigKind::kNumber;
  for (const char* k : {"deterministic", "no-side-info", "quiet"}) keys[k].kind = ConfigKind::kBool;
  for (const char* k : {"fanouts", "topk"}) keys[k].kind = ConfigKind::kIntegerList;
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  static const gnnrec::ConfigKeys keys = fuzz_keys();
  const std::string dir = fresh_dir("config");
  const std::string path =
      write_file(dir, "run.toml", std::string_view(reinterpret_cast<const char*>(data), size));
  const std::vector<std::string> args = {"train", "--config", path, "--lr", "0.01"};
  expect_clean(
      [&] {
        const std::vector<std::string> out = gnnrec::expand_config(args, keys);
        // The command line is kept, after the subcommand and the expanded keys.
        if (out.size() < args.size() || out.front() != "train" ||
            !std::equal(args.begin() + 1, args.end(), out.end() - (args.size() - 1))) {
          finding("expand_config lost the command line");
        }
        for (size_t k = 1; k + (args.size() - 1) < out.size(); ++k) {
          const std::string& flag = out[k];
          if (flag.rfind("--", 0) != 0) finding("an expanded key is not a flag: " + flag);
          if (flag.rfind("--lr=", 0) == 0) finding("a config key overrode a command-line flag");
          const std::string name = flag.substr(2, flag.find('=') - 2);
          if (keys.count(name) == 0) finding("an expanded key is not a declared one: " + flag);
        }
      },
      "--config " + path, /*allow_invalid_argument=*/true);
  return 0;
}
