#include "graph/text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "base/file_io.h"

namespace gnnrec {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

TextFile::TextFile(std::string path) : path_(std::move(path)), text_(read_file(path_)) {
  if (std::string_view(text_).substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    pos_ = kByteOrderMark.size();
  }
}

bool TextFile::next(std::string_view* line) {
  const std::string_view text = text_;
  while (pos_ < text.size()) {
    size_t end = text.find('\n', pos_);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (trim(l).empty()) continue;
    *line = l;
    return true;
  }
  return false;
}

void TextFile::fail(const std::string& what) const {
  throw DataError(path_ + ":" + std::to_string(line_) + ": " + what);
}

int64_t TextFile::integer(std::string_view tok, int field) const {
  int64_t v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  if (ec == std::errc::result_out_of_range && p == end) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) +
         "') does not fit a 64-bit integer");
  }
  if (tok.empty() || ec != std::errc() || p != end) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) + "') is not an integer");
  }
  return v;
}

int32_t TextFile::id(std::string_view tok, int field) const {
  int64_t v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  const bool overflow = ec == std::errc::result_out_of_range && p == end;
  if (!overflow && (tok.empty() || ec != std::errc() || p != end)) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) + "') is not an integer");
  }
  if (overflow || v < 0 || v > kMaxRawId) {
    fail("id " + shown(tok) + " out of range [0, " + std::to_string(kMaxRawId) + "]");
  }
  return static_cast<int32_t>(v);
}

float TextFile::number(std::string_view tok, int field) const {
  float v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  if (tok.empty() || ec != std::errc() || p != end || !std::isfinite(v)) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) + "') is not a finite number");
  }
  return v;
}

int64_t TextFile::floored(std::string_view tok, int field) const {
  int64_t v = 0;
  const char* end = tok.data() + tok.size();
  if (auto [p, ec] = std::from_chars(tok.data(), end, v); ec == std::errc() && p == end) {
    return v;  // an integer: exact, even past 2^53
  }
  double d = 0;
  auto [p, ec] = std::from_chars(tok.data(), end, d);
  const bool out_of_range = ec == std::errc::result_out_of_range && p == end;
  if (!out_of_range && (tok.empty() || ec != std::errc() || p != end || !std::isfinite(d))) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) + "') is not a finite number");
  }
  // Past the double range: strtod gives +-HUGE_VAL, or 0 for an underflow.
  if (out_of_range) d = std::strtod(std::string(tok).c_str(), nullptr);
  d = std::floor(d);
  // [-2^63, 2^63): both bounds are exact doubles.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    fail("field " + std::to_string(field) + " ('" + shown(tok) +
         "') does not fit a 64-bit integer");
  }
  return static_cast<int64_t>(d);
}

std::string shown(std::string_view tok) {
  constexpr size_t kMax = 40;
  std::string out;
  for (const char c : tok.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      // A raw control character would garble the terminal the message lands on.
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  if (tok.size() > kMax) out += "...";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

void split_blanks(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_blank(line[j])) ++j;
    if (j > i) out->push_back(line.substr(i, j - i));
    i = j;
  }
}

void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (true) {
    const size_t j = line.find(sep, i);
    if (j == std::string_view::npos) {
      out->push_back(trim(line.substr(i)));
      return;
    }
    out->push_back(trim(line.substr(i, j - i)));
    i = j + sep.size();
  }
}

void split_delimited(std::string_view line, char delim, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    const bool at_end = i == line.size();
    const char c = at_end ? delim : line[i];
    if (quoted) {
      if (at_end) {
        quoted = false;  // unterminated quote: take what is there
      } else if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
        continue;
      } else {
        field.push_back(c);
        continue;
      }
    }
    if (c == delim) {
      out->push_back(was_quoted ? field : std::string(trim(field)));
      field.clear();
      was_quoted = false;
    } else if (c == '"' && trim(field).empty()) {
      field.clear();
      quoted = true;
      was_quoted = true;
    } else if (!(was_quoted && is_blank(c))) {
      field.push_back(c);
    }
  }
}

std::string path_join(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace gnnrec
