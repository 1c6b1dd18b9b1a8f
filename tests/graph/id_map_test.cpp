// IdMap interning and canonical order; Interactions row operations.
#include <gtest/gtest.h>

#include "graph/interactions.h"

namespace gnnrec {
namespace {

TEST(IdMap, InternAndFind) {
  IdMap m;
  EXPECT_EQ(m.intern("b"), 0);
  EXPECT_EQ(m.intern("a"), 1);
  EXPECT_EQ(m.intern("b"), 0);  // already there: same id, no growth
  EXPECT_EQ(m.size(), 2);
  EXPECT_EQ(m.find("a"), 1);
  EXPECT_EQ(m.find("zzz"), -1);
  EXPECT_EQ(m.raw(0), "b");
  EXPECT_THROW(m.raw(2), std::out_of_range);
}

TEST(IdMap, CanonicalizeNumericOrder) {
  IdMap m;
  for (const char* s : {"10", "2", "1", "-3"}) m.intern(s);
  // Numeric order -3 < 1 < 2 < 10 (lexicographic would put "10" before "2").
  EXPECT_EQ(m.canonicalize(), (std::vector<int32_t>{3, 2, 1, 0}));
  EXPECT_EQ(m.raw_ids(), (std::vector<std::string>{"-3", "1", "2", "10"}));
  EXPECT_EQ(m.find("10"), 3);
  EXPECT_EQ(m.find("-3"), 0);
  EXPECT_EQ(m.intern("7"), 4);  // interning continues after the renumbering
}

TEST(IdMap, CanonicalizeLexicographicWhenAnyIdIsNotAnInteger) {
  IdMap m;
  for (const char* s : {"10", "2", "12a", "1"}) m.intern(s);
  // "12a" is not an integer in full, so the whole map is ordered as strings.
  EXPECT_EQ(m.canonicalize(), (std::vector<int32_t>{1, 3, 2, 0}));
  EXPECT_EQ(m.raw_ids(), (std::vector<std::string>{"1", "10", "12a", "2"}));
  EXPECT_EQ(m.find("2"), 3);
}

TEST(IdMap, CanonicalizeIdentityAndTies) {
  IdMap dense;
  for (const char* s : {"0", "1", "2"}) dense.intern(s);
  EXPECT_EQ(dense.canonicalize(), (std::vector<int32_t>{0, 1, 2}));

  IdMap ties;
  for (const char* s : {"7", "007", "5"}) ties.intern(s);
  // 007 == 7 numerically; the string breaks the tie ("007" < "7").
  EXPECT_EQ(ties.canonicalize(), (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(ties.raw_ids(), (std::vector<std::string>{"5", "007", "7"}));

  IdMap empty;
  EXPECT_TRUE(empty.canonicalize().empty());
}

TEST(Interactions, SelectKeepsOrderAndOptionalColumns) {
  Interactions x;
  x.user = {0, 1, 2, 3};
  x.item = {5, 6, 7, 8};
  x.rating = {1, 2, 3, 4};
  x.timestamp = {10, 20, 30, 40};
  const Interactions y = x.select({true, false, true, true});
  EXPECT_EQ(y.user, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(y.item, (std::vector<int32_t>{5, 7, 8}));
  EXPECT_EQ(y.rating, (std::vector<float>{1, 3, 4}));
  EXPECT_EQ(y.timestamp, (std::vector<int64_t>{10, 30, 40}));
  EXPECT_THROW(x.select({true}), DataError);

  Interactions plain;
  plain.user = {1};
  plain.item = {2};
  const Interactions z = plain.select({true});
  EXPECT_FALSE(z.has_rating());
  EXPECT_FALSE(z.has_timestamp());
}

TEST(IdMap, FindIntegerMatchesOtherSpellingsOfAnInteger) {
  IdMap m;
  for (const char* raw : {"7", "12", "-3", "0"}) m.intern(raw);
  EXPECT_EQ(m.find_integer("007"), m.find("7"));
  EXPECT_EQ(m.find_integer("+12"), m.find("12"));
  EXPECT_EQ(m.find_integer("-03"), m.find("-3"));
  EXPECT_EQ(m.find_integer("-0"), m.find("0"));
  EXPECT_EQ(m.find_integer("000"), m.find("0"));
  // The decimal form itself, and what is no integer or not in the map: -1.
  for (const char* raw : {"7", "0", "99", "099", "7a", " 7", "", "+", "-", "++7", "+-3", "+-0",
                          "99999999999999999999"}) {
    EXPECT_EQ(m.find_integer(raw), -1) << raw;
  }
}

TEST(Interactions, PushFrom) {
  Interactions x;
  x.user = {0, 1};
  x.item = {5, 6};
  x.rating = {1.5f, 2.5f};
  Interactions y;
  y.reserve(2);
  y.push_from(x, 1);
  y.push_from(x, 0);
  EXPECT_EQ(y.user, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(y.item, (std::vector<int32_t>{6, 5}));
  EXPECT_EQ(y.rating, (std::vector<float>{2.5f, 1.5f}));
  EXPECT_FALSE(y.has_timestamp());

  Interactions no_rating;
  no_rating.user = {3};
  no_rating.item = {4};
  EXPECT_THROW(y.push_from(no_rating, 0), DataError);  // columns differ
}

}  // namespace
}  // namespace gnnrec
