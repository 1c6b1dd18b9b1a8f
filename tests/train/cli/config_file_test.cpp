// The TOML config file of `gnnrec train --config` (train/cli/config_file.h):
// what a file expands to, and the one-line FILE:LINE errors of bad files.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testing/scratch.h"
#include "train/cli/config_file.h"

namespace gnnrec {
namespace {
using gnnrec::testing::error_of;
using Args = std::vector<std::string>;

// A few keys of every kind; epochs is checked against [1, 10].
ConfigKeys test_keys() {
  ConfigKeys keys;
  keys["model"].kind = ConfigKind::kString;
  keys["out"].kind = ConfigKind::kString;
  keys["epochs"].kind = ConfigKind::kInteger;
  keys["epochs"].check = [](const std::string& name, const std::string& text) {
    const long long v = std::stoll(text);
    if (v < 1 || v > 10) throw std::invalid_argument(name + " must be in [1, 10], got " + text);
  };
  keys["batch-size"].kind = ConfigKind::kInteger;
  keys["lr"].kind = ConfigKind::kNumber;
  keys["deterministic"].kind = ConfigKind::kBool;
  keys["no-side-info"].kind = ConfigKind::kBool;
  keys["fanouts"].kind = ConfigKind::kIntegerList;
  return keys;
}

class ConfigFile : public gnnrec::testing::ScratchDirTest {
 protected:
  ConfigFile() : ScratchDirTest("config_file") {}

  // expand_config of `train --config FILE` followed by `flags`.
  Args expand(const std::string& toml, const Args& flags = {}) {
    path_ = write("run.toml", toml);
    Args args = {"train", "--config", path_};
    args.insert(args.end(), flags.begin(), flags.end());
    return expand_config(args, test_keys());
  }

  // The error of expanding `toml`, with the file's path replaced by F.
  std::string error(const std::string& toml) {
    std::string e = error_of<std::invalid_argument>([&] { expand(toml); });
    if (const size_t at = e.find(path_); at != std::string::npos) e.replace(at, path_.size(), "F");
    return e;
  }

  std::string path_;
};

TEST_F(ConfigFile, KeysBecomeFlagsAfterTheSubcommandAndTheCommandLineWins) {
  const Args out = expand(
      "model = \"mf\"\nepochs = 3\nlr = 0.1\nbatch-size = 512\nout = \"runs/a b\"\n"
      "deterministic = true\nno-side-info = false\n[train]\nfanouts = [10, 5]\n",
      {"--epochs", "4"});
  // toml++ keeps a table's keys in name order.
  const Args expected = {"train",
                         "--batch-size=512",
                         "--deterministic",
                         "--lr=0.1",
                         "--model=mf",
                         "--out=runs/a b",
                         "--fanouts=10,5",
                         "--config",
                         path_,
                         "--epochs",
                         "4"};
  EXPECT_EQ(out, expected);
}

TEST_F(ConfigFile, NumbersListsAndByteOrderMark) {
  // An integer for a number, one integer for a list, floats read back exactly.
  const Args one = expand("lr = 1\nfanouts = 8\n");
  EXPECT_EQ(one, (Args{"train", "--fanouts=8", "--lr=1", "--config", path_}));
  EXPECT_EQ(expand("lr = 1e-3\n")[1], "--lr=0.001");
  EXPECT_EQ(expand("lr = 0.1\n")[1], "--lr=0.1");
  EXPECT_EQ(expand("lr = nan\n")[1], "--lr=nan");
  EXPECT_EQ(expand("\xEF\xBB\xBFmodel = \"mf\"\n")[1], "--model=mf");
  // Without `train --config` the arguments are returned as they are.
  const Args plain = {"evaluate", "--run", "x"};
  EXPECT_EQ(expand_config(plain, test_keys()), plain);
}

TEST_F(ConfigFile, SyntaxErrorsNameFileAndLine) {
  EXPECT_EQ(error("lr = 1\nmodel = \"a\"\nlr = 2\n"), "--config F:3: duplicate key 'lr'");
  EXPECT_EQ(error("[train]\nlr = 1\n[train]\n"), "--config F:3: duplicate section [train]");
  // `[section` is not a flag, an unterminated string not a model name.
  const std::string header = error("model = \"mf\"\n[section\nepochs = 2\n");
  EXPECT_EQ(header.rfind("--config F:2: table header: ", 0), 0u) << header;
  const std::string string = error("epochs = 2\nmodel = \"mf\n");
  EXPECT_EQ(string.rfind("--config F:2: string: ", 0), 0u) << string;
  const std::string big = error("\nepochs = 99999999999999999999\n");
  EXPECT_EQ(big.rfind("--config F:2: ", 0), 0u) << big;
  EXPECT_NE(big.find("99999999999999999999"), std::string::npos) << big;
}

TEST_F(ConfigFile, KeyErrorsNameFileLineAndKey) {
  EXPECT_EQ(error("model = \"mf\"\nepochs = \"ten\"\n"),
            "--config F:2: key 'epochs': expected an integer, got a string");
  EXPECT_EQ(error("epochs = 2.5\n"),
            "--config F:1: key 'epochs': expected an integer, got a floating-point number");
  EXPECT_EQ(error("lr = \"fast\"\n"), "--config F:1: key 'lr': expected a number, got a string");
  EXPECT_EQ(error("deterministic = 1\n"),
            "--config F:1: key 'deterministic': expected true or false, got an integer");
  EXPECT_EQ(error("fanouts = [10, \"x\"]\n"),
            "--config F:1: key 'fanouts': expected a list of integers, got a list holding a "
            "string");
  EXPECT_EQ(error("fanouts = []\n"),
            "--config F:1: key 'fanouts': expected a list of integers, got an empty list");
  EXPECT_EQ(error("model = [\"mf\"]\n"),
            "--config F:1: key 'model': expected a string, got a list");
  EXPECT_EQ(error("epochs = 0\n"), "--config F:1: key 'epochs' must be in [1, 10], got 0");
  EXPECT_EQ(error("model = \"mf\"\nlearning_rate = 0.1\n"),
            "--config F:2: unknown key 'learning_rate'");
  EXPECT_EQ(error("batch_size = 1\n"),
            "--config F:1: unknown key 'batch_size' (keys are the long flag names: 'batch-size')");
  EXPECT_EQ(error("lr = 1\n[train]\nlr = 2\n"),
            "--config F:3: duplicate key 'lr' (also on line 1)");
  EXPECT_EQ(error("config = \"other.toml\"\n"),
            "--config F:1: key 'config': nested config files are not supported");
  EXPECT_EQ(error("[data]\nx = 1\n"),
            "--config F:1: section [data] is not supported (keys go at the top level or under "
            "[train])");
  EXPECT_EQ(error("[train.x]\ny = 1\n"),
            "--config F:1: section [train.x] is not supported (keys go at the top level or under "
            "[train])");
  // A key with a newline in it stays on one line.
  EXPECT_EQ(error("\"a\\nb\" = 1\n"), "--config F:1: unknown key 'a\\nb'");
}

// toml++ 3.3 reaches undefined behaviour for some non-ASCII code points where
// it looks for whitespace (found by fuzz_config): those places are refused
// before it parses; strings and comments keep any character.
TEST_F(ConfigFile, NonAsciiWhereToml33CannotReadIt) {
  const Args ok = expand("model = \"caf\xC3\xA9\" # \xC2\xA7\nout = '''\xC2\xA7\\'''\n");
  EXPECT_EQ(ok, (Args{"train", "--model=caf\xC3\xA9", "--out=\xC2\xA7\\", "--config", path_}));
  EXPECT_EQ(error("model = \"mf\" \xC2\xA7\n"),
            "--config F:1: a non-ASCII character outside a string or comment");
  EXPECT_EQ(error(std::string("\xEF\xBB\xBE\0e", 5)),
            "--config F:1: a non-ASCII character outside a string or comment");
  // marzer/tomlplusplus#190: after a line-ending backslash, and after a backslash.
  const std::string after =
      ": a non-ASCII character after a backslash in a multi-line string (toml++ 3.3 cannot "
      "read it safely there)";
  EXPECT_EQ(error("model = \"mf\"\nout = \"\"\"\\\n  \xC2\xA7\"\"\"\n"), "--config F:3" + after);
  EXPECT_EQ(error("model = \"mf\"\nout = \"\"\"\\\xC2\xA7\"\"\"\n"), "--config F:2" + after);
  // A string elsewhere (an array of strings, a value scanned to its end)
  // may or may not be one for toml++: from there on, non-ASCII is refused.
  const std::string quote =
      ": a non-ASCII character after a string other than 'key = \"...\"' (toml++ 3.3 cannot "
      "read it safely there)";
  EXPECT_EQ(error("model = [\"\xC2\xA7\"]\n"), "--config F:1" + quote);
  EXPECT_EQ(error("model = 1=\"\xC2\xA7\"\n"), "--config F:1" + quote);
  EXPECT_EQ(error("fanouts = [\n  1=\"\xC2\xA7\",\n]\n"), "--config F:2" + quote);
  EXPECT_EQ(error(std::string("hcsopopodel=-\0\0\0\0'''\xCF\xB9=lF= \"\\\n\"\"\"s =\n", 37)),
            "--config F:1" + quote);
  // Comments may hold any character, in a list spanning lines too.
  EXPECT_EQ(expand("fanouts = [\n  10, # \xC2\xA7\n  5,\n]\n")[1], "--fanouts=10,5");
  // A multi-line string may end in up to two quotes before its delimiter.
  EXPECT_EQ(expand("out = \"\"\"a\"\"\"\"\" # \xC2\xA7\n")[1], "--out=a\"\"");
}

TEST_F(ConfigFile, MissingFile) {
  path_ = dir_ + "/missing.toml";
  EXPECT_EQ(error_of<std::invalid_argument>([&] {
              expand_config({"train", "--config=" + path_}, test_keys());
            }),
            "--config " + path_ + ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace gnnrec
