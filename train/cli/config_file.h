// `gnnrec train --config FILE`: the TOML config file, expanded into flags.
// Torch-free (toml++, header-only, compiled in config_file.cpp), so that the
// CLI, its tests and the config-file fuzz target (fuzz/fuzz_config.cpp) share
// the one parser. The keys it accepts, their types and their checks are the
// caller's (the CLI's come from the configuration table, train/
// config_fields.h).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gnnrec {

// The TOML type a key takes: a number accepts an integer too, and a list of
// integers a single integer.
enum class ConfigKind { kString, kInteger, kNumber, kBool, kIntegerList };

struct ConfigKey {
  ConfigKind kind = ConfigKind::kString;
  // Optional: checks the value's text (a list's elements joined by ','),
  // throwing std::invalid_argument with a message that calls the value
  // `name` ("key 'epochs' must be in [1, 1000000000], got 0").
  std::function<void(const std::string& name, const std::string& text)> check;
};

// By key as written in the file: the long flag's name without "--"
// ("batch-size"); a bool key is the flag itself ("deterministic = true" is
// --deterministic, "= false" adds nothing).
using ConfigKeys = std::map<std::string, ConfigKey>;

// Expands `train --config FILE`: each key of the TOML file (at the top level
// or in a [train] section) that is not also given on the command line
// becomes "--KEY=VALUE" after the subcommand, so command-line flags win.
// `args` is argv without the program name; without `train --config` it is
// returned as it is. A UTF-8 byte-order mark is accepted.
//
// Throws std::invalid_argument, one line "--config FILE[:LINE]: ...", when
// the file cannot be opened or read as TOML ("--config x.toml:3: duplicate
// key 'lr'"), or for a key that is unknown, given twice (at the top level
// and in [train]), of the wrong type ("--config x.toml:5: key 'epochs':
// expected an integer, got a string"), rejected by its check, or `config`
// itself (nested config files are not supported); for a section other than
// [train].
std::vector<std::string> expand_config(const std::vector<std::string>& args,
                                       const ConfigKeys& keys);

}  // namespace gnnrec
