// The text-parsing unit (graph/text.h): its rules by hand-worked examples,
// then the same rules through every loader, so that a format cannot drift
// from another (a BOM, CRLF, blank lines and an overflowing id in each).
#include "graph/text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "graph/kg_loaders.h"
#include "graph/loaders.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using Fields = std::vector<std::string_view>;

#define EXPECT_HAS(msg, part) \
  EXPECT_NE(std::string(msg).find(part), std::string::npos) << "message: " << (msg)

class TextTest : public testing::ScratchDirTest {
 protected:
  TextTest() : ScratchDirTest("gnnrec_text") {}
};

std::vector<std::pair<int64_t, std::string>> all_lines(TextFile& f) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::string_view l;
  while (f.next(&l)) out.emplace_back(f.line(), std::string(l));
  return out;
}

TEST_F(TextTest, LinesSkipBlanksButCountThemAndDropBomAndCr) {
  TextFile f(write("a.txt",
                   "\xEF\xBB\xBF"
                   "1 2\r\n\r\n \t\n3 4\n\n5"));
  const auto lines = all_lines(f);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (std::pair<int64_t, std::string>{1, "1 2"}));
  EXPECT_EQ(lines[1], (std::pair<int64_t, std::string>{4, "3 4"}));
  EXPECT_EQ(lines[2], (std::pair<int64_t, std::string>{6, "5"}));
}

TEST_F(TextTest, AByteOrderMarkOnlyCountsAtTheStart) {
  TextFile f(write("a.txt",
                   "1\n\xEF\xBB\xBF"
                   "2\n"));
  const auto lines = all_lines(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].second,
            "\xEF\xBB\xBF"
            "2");
}

TEST_F(TextTest, IdsIntegersAndNumbers) {
  TextFile f(write("a.txt", "x\n"));
  std::string_view l;
  ASSERT_TRUE(f.next(&l));
  EXPECT_EQ(f.id("0", 1), 0);
  EXPECT_EQ(f.id("2147483647", 1), 2147483647);
  EXPECT_EQ(f.integer("-9223372036854775808", 1), INT64_MIN);
  EXPECT_FLOAT_EQ(f.number("3.5", 1), 3.5f);
  auto err = [](auto fn) { return testing::error_of<DataError>(fn); };
  EXPECT_EQ(err([&] { f.id("2147483648", 2); }),
            f.path() + ":1: id 2147483648 out of range [0, 2147483647]");
  EXPECT_EQ(err([&] { f.id("-1", 2); }), f.path() + ":1: id -1 out of range [0, 2147483647]");
  EXPECT_EQ(err([&] { f.id("99999999999999999999", 2); }),
            f.path() + ":1: id 99999999999999999999 out of range [0, 2147483647]");
  EXPECT_EQ(err([&] { f.id("1x", 3); }), f.path() + ":1: field 3 ('1x') is not an integer");
  EXPECT_EQ(err([&] { f.id("", 3); }), f.path() + ":1: field 3 ('') is not an integer");
  EXPECT_EQ(err([&] { f.integer("99999999999999999999", 4); }),
            f.path() + ":1: field 4 ('99999999999999999999') does not fit a 64-bit integer");
  EXPECT_EQ(err([&] { f.number("nan", 5); }),
            f.path() + ":1: field 5 ('nan') is not a finite number");
  // Control characters are escaped: a raw one would garble the terminal.
  EXPECT_EQ(err([&] { f.id("1\r\t\x1b", 2); }),
            f.path() + ":1: field 2 ('1\\r\\t\\x1b') is not an integer");
  const std::string long_tok(100, '7');
  EXPECT_EQ(err([&] { f.id(long_tok + "z", 1); }),
            f.path() + ":1: field 1 ('" + std::string(40, '7') + "...') is not an integer");
}

TEST_F(TextTest, FlooredNumbers) {
  TextFile f(write("a.txt", "x\n"));
  std::string_view l;
  ASSERT_TRUE(f.next(&l));
  EXPECT_EQ(f.floored("978300760", 1), 978300760);
  EXPECT_EQ(f.floored("978300760.99", 1), 978300760);
  EXPECT_EQ(f.floored("-1.5", 1), -2);
  EXPECT_EQ(f.floored("1.5e3", 1), 1500);
  EXPECT_EQ(f.floored("1e-400", 1), 0);                       // underflows to 0
  EXPECT_EQ(f.floored("9223372036854775807", 1), INT64_MAX);  // integers exactly
  auto err = [](auto fn) { return testing::error_of<DataError>(fn); };
  EXPECT_EQ(err([&] { f.floored("9223372036854775808", 2); }),
            f.path() + ":1: field 2 ('9223372036854775808') does not fit a 64-bit integer");
  EXPECT_EQ(err([&] { f.floored("1e400", 2); }),
            f.path() + ":1: field 2 ('1e400') does not fit a 64-bit integer");
  EXPECT_EQ(err([&] { f.floored("-inf", 3); }),
            f.path() + ":1: field 3 ('-inf') is not a finite number");
  EXPECT_EQ(err([&] { f.floored("12:30", 3); }),
            f.path() + ":1: field 3 ('12:30') is not a finite number");
  EXPECT_EQ(err([&] { f.floored("", 3); }), f.path() + ":1: field 3 ('') is not a finite number");
}

TEST(Text, Splitters) {
  Fields f;
  split_blanks(" a\t\tb  c \r", &f);
  EXPECT_EQ(f, (Fields{"a", "b", "c"}));
  split_on("1:: 2 ::::3", "::", &f);
  EXPECT_EQ(f, (Fields{"1", "2", "", "3"}));
  split_on("a|b|", "|", &f);
  EXPECT_EQ(f, (Fields{"a", "b", ""}));
  std::vector<std::string> d;
  split_delimited(R"(1, "a,b" ,"say ""hi""",x)", ',', &d);
  EXPECT_EQ(d, (std::vector<std::string>{"1", "a,b", "say \"hi\"", "x"}));
}

// One data set per format, written with a BOM, CRLF line ends and a blank
// line; each must load as the plain file does and report an id past int32
// on the line where it is, with the same words.
struct FormatCase {
  const char* name;
  std::function<void(const std::string& dir, const std::string& bad_id)> write;
  std::function<int64_t(const std::string& dir)> load;  // interactions or edges
  const char* bad_file;
  int bad_line;  // line number of the bad id, counting the blank one
};

std::string crlf(const std::string& lf) {
  std::string out = "\xEF\xBB\xBF";
  for (char c : lf) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

void put(const std::string& dir, const char* name, const std::string& lf_text) {
  fs::create_directories(dir);
  std::ofstream(fs::path(dir) / name, std::ios::binary) << crlf(lf_text);
}

std::vector<FormatCase> format_cases() {
  auto interactions = [](const std::string& dir) {
    return static_cast<int64_t>(load_dataset(dir).train.size());
  };
  return {
      {"lightgcn",
       [](const std::string& d, const std::string& id) {
         put(d, "train.txt", "0 1\n\n" + id + " 1\n");
       },
       interactions, "train.txt", 3},
      {"ml-100k",
       [](const std::string& d, const std::string& id) {
         put(d, "u.data", "1\t2\t5\t10\n\n" + id + "\t2\t3\t11\n");
       },
       interactions, "u.data", 3},
      {"ml-1m",
       [](const std::string& d, const std::string& id) {
         put(d, "ratings.dat", "1::2::5::10\n\n1::" + id + "::3::11\n");
       },
       interactions, "ratings.dat", 3},
      {"kgcn",
       [](const std::string& d, const std::string& id) {
         put(d, "item_index2entity_id.txt", "2\t0\n7\t1\n");
         put(d, "user_artists.dat", "userID\tartistID\tweight\n\n1\t2\t9\n" + id + "\t7\t1\n");
       },
       interactions, "user_artists.dat", 4},
      {"kgat kg",
       [](const std::string& d, const std::string& id) {
         put(d, "train.txt", "0 0 1\n");
         put(d, "kg_final.txt", "0 0 5\n\n1 0 " + id + "\n");
       },
       [](const std::string& d) {
         return load_kgat_kg(d + "/kg_final.txt", load_dataset(d).items, false).num_edges();
       },
       "kg_final.txt", 3},
  };
}

TEST_F(TextTest, EveryFormatReadsBomCrlfAndBlankLinesAlike) {
  for (const FormatCase& c : format_cases()) {
    SCOPED_TRACE(c.name);
    const std::string good = dir_ + "/" + c.name + "-good";
    c.write(good, "1");
    EXPECT_EQ(c.load(good), 2);
  }
}

TEST_F(TextTest, EveryFormatRejectsAnOverflowingIdWithTheSameWords) {
  for (const FormatCase& c : format_cases()) {
    SCOPED_TRACE(c.name);
    for (const std::string id : {"2147483648", "99999999999999999999", "-3"}) {
      const std::string bad = dir_ + "/" + c.name + "-bad";
      fs::remove_all(bad);
      c.write(bad, id);
      const std::string msg = testing::error_of<DataError>([&] { c.load(bad); });
      EXPECT_HAS(msg, std::string(c.bad_file) + ":" + std::to_string(c.bad_line) + ": id " + id +
                          " out of range [0, 2147483647]");
    }
  }
}

}  // namespace
}  // namespace gnnrec
