// The text files serving reads and writes, with raw ids (as written in the
// data set's files; train/serving_run.h: find_raw_id):
//   id list        one raw id per line (`recommend --users FILE`,
//                  `--items FILE`); blank lines skipped, a byte-order mark
//                  and CRLF read as usual (graph/text.h), spaces around an
//                  id ignored
//   lists          `NAME<TAB>ID,ID,...` per line: what `recommend --users`
//                  writes (a user and its items, best first) and what
//                  `fold-in --new-users` reads (a new user's name and the
//                  items it interacted with)
// Errors are one line naming the file and line:
//   users.txt:3: 'u9' is not a user of ml-100k
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/interactions.h"
#include "train/recommend.h"

namespace gnnrec {

// Where raw ids are looked up: the map, what it holds ("user", "item"), and
// the data set (its name for messages, its format for find_raw_id).
struct IdSpace {
  const IdMap& ids;
  const char* what;
  std::string dataset;
  std::string format;
};

// The dense ids of an id-list file, in file order (repeats kept).
// DataError naming file and line for an unknown id or a line of several
// fields; an empty file is an error ("PATH: no ids").
std::vector<int32_t> read_id_list(const std::string& path, const IdSpace& space);

// The dense ids of a comma-separated list of raw ids ("50,172,133"),
// distinct, in first-seen order; std::invalid_argument naming `where` and
// the id for an unknown or empty one.
std::vector<int32_t> parse_id_list(const std::string& text, const IdSpace& space,
                                   const std::string& where);

// The rows of a lists file: each line's name and dense ids (distinct).
std::vector<std::pair<std::string, std::vector<int32_t>>> read_lists(const std::string& path,
                                                                     const IdSpace& space);

// One line of a lists file: NAME, a tab, the ranked ids' raw forms joined
// by commas, '\n'. std::invalid_argument when NAME or an id holds a tab, a
// comma or a line break (the line could not be read back).
std::string list_line(const std::string& name, const Ranked& r, const IdMap& ids);

}  // namespace gnnrec
