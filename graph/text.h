// The one text-parsing unit every loader reads through (LightGCN text,
// MovieLens, delimited files, KG triples, KGCN and MovieLens side files).
// The rules of a text format live here once, so every format treats them
// the same way:
//  - a UTF-8 byte-order mark at the start of a file is dropped;
//  - "\r\n" reads like "\n"; blank lines (spaces, tabs) are skipped but
//    counted, so messages name the line an editor shows;
//  - an id is an integer in [0, 2^31 - 1]: anything else that parses as an
//    integer (negative, or past 64 bits) is "out of range", anything that
//    does not is "not an integer";
//  - errors are DataError("path:line: what is wrong"), with a bad token
//    quoted, cut to 40 characters and its control characters escaped, so
//    that one line stays one readable line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gnnrec {

// Largest id a loader accepts (ids are stored as int32).
constexpr int64_t kMaxRawId = INT32_MAX;

// A whole text file read into memory, walked line by line. Not thread-safe;
// the string_views it hands out live as long as the TextFile.
class TextFile {
 public:
  // Reads `path` (DataError naming it when it cannot be read).
  explicit TextFile(std::string path);
  const std::string& path() const { return path_; }
  size_t bytes() const { return text_.size(); }

  // The next non-blank line, without its line ending; false at the end.
  bool next(std::string_view* line);
  // 1-based number of the line next() returned last (0 before the first).
  int64_t line() const { return line_; }

  // DataError "path:line: what" for the current line.
  [[noreturn]] void fail(const std::string& what) const;
  // Field `field` (1-based, for the message) of the current line as:
  int32_t id(std::string_view tok, int field) const;       // an id (see above)
  int64_t integer(std::string_view tok, int field) const;  // any 64-bit integer
  float number(std::string_view tok, int field) const;     // a finite float
  // A finite number rounded down to a 64-bit integer ("978300760.9" ->
  // 978300760; integers exactly): timestamps that a format writes as floats.
  int64_t floored(std::string_view tok, int field) const;

 private:
  std::string path_;
  std::string text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

// `tok` for a message: as written, cut to 40 characters and "...", with
// control characters shown as \r, \t or \xNN.
std::string shown(std::string_view tok);
// `s` without leading and trailing spaces, tabs, '\r' and '\n'.
std::string_view trim(std::string_view s);
// Fields separated by runs of spaces and tabs (none empty).
void split_blanks(std::string_view line, std::vector<std::string_view>* out);
// Fields separated by exactly `sep` ("::", "|", "\t"), each trimmed; n
// separators give n + 1 fields, empty ones included.
void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>* out);
// One CSV-style record split on `delim`, honouring double quotes ("a,b" and
// "say ""hi""" are one field each); fields trimmed unless quoted, unquoted.
void split_delimited(std::string_view line, char delim, std::vector<std::string>* out);
// dir/name as a path string.
std::string path_join(const std::string& dir, const char* name);

}  // namespace gnnrec
