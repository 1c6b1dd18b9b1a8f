// `gnnrec train --config FILE`: the TOML config file, expanded into flags.
// Header-only and Torch-free (CLI11's TOML reader), so that the CLI and the
// config-file fuzz target (fuzz/fuzz_config.cpp) share the one parser.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace gnnrec {

// Expands `train --config FILE`: each key of the TOML file (top level or a
// [train] section) that is not also given on the command line becomes a
// flag inserted after the subcommand, so command-line flags win. CLI11 then
// validates every key like any flag (an unknown key is an error). `args` is
// argv without the program name. Throws std::invalid_argument
// "--config FILE: ..." when the file cannot be opened or is not valid TOML.
inline std::vector<std::string> expand_config(const std::vector<std::string>& args) {
  auto sub = std::find(args.begin(), args.end(), "train");
  if (sub == args.end()) return args;
  std::string file;
  std::set<std::string> given;
  for (auto it = sub + 1; it != args.end(); ++it) {
    if (it->rfind("--", 0) != 0) continue;
    const std::string name = it->substr(2, it->find('=') - 2);
    given.insert(name);
    if (name == "config") {
      if (it->find('=') != std::string::npos) file = it->substr(it->find('=') + 1);
      else if (it + 1 != args.end()) file = *(it + 1);
    }
  }
  if (file.empty()) return args;
  std::ifstream in(file);
  if (!in) throw std::invalid_argument("--config " + file + ": cannot open: " + std::strerror(errno));
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(in);
  } catch (const CLI::Error& e) {
    throw std::invalid_argument("--config " + file + ": " + e.what());
  }
  std::vector<std::string> extra;
  for (const auto& item : items) {
    if (!item.parents.empty() && item.parents != std::vector<std::string>{"train"}) continue;
    if (item.name == "config" || item.name == "++" || item.name == "--" || given.count(item.name)) continue;
    std::string joined;
    for (const auto& v : item.inputs) joined += (joined.empty() ? "" : ",") + v;
    extra.push_back("--" + item.name + "=" + joined);
  }
  std::vector<std::string> out(args.begin(), sub + 1);
  out.insert(out.end(), extra.begin(), extra.end());
  out.insert(out.end(), sub + 1, args.end());
  return out;
}

}  // namespace gnnrec
