#include "train/id_files.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "base/data_error.h"
#include "graph/text.h"
#include "train/serving_run.h"

namespace gnnrec {
namespace {

int32_t lookup(const IdSpace& s, const std::string& raw) {
  return find_raw_id(s.ids, raw, s.format);
}

std::string unknown(const IdSpace& s, const std::string& raw) {
  return unknown_id_message(s.ids, raw, s.what, s.dataset, s.format);
}

// A name may hold commas (it ends at the tab); an id may not.
void check_field(const std::string& text, const char* what, const char* forbidden) {
  if (text.find_first_of(forbidden) != std::string::npos) {
    throw std::invalid_argument(std::string("the ") + what + " '" + shown(text) + "' holds " +
                                (forbidden[0] == ',' ? "a comma, " : "") +
                                "a tab or a line break; it cannot be written in a "
                                "NAME<TAB>ID,ID,... line");
  }
}

}  // namespace

std::vector<int32_t> read_id_list(const std::string& path, const IdSpace& space) {
  TextFile f(path);
  std::vector<int32_t> out;
  std::string_view line;
  std::vector<std::string_view> fields;
  while (f.next(&line)) {
    split_blanks(line, &fields);
    if (fields.size() != 1) {
      f.fail("expected one " + std::string(space.what) + " id, got " +
             std::to_string(fields.size()) + " fields");
    }
    const std::string raw(fields[0]);
    const int32_t id = lookup(space, raw);
    if (id < 0) f.fail(unknown(space, raw));
    out.push_back(id);
  }
  if (out.empty()) throw DataError(path + ": no ids");
  return out;
}

std::vector<int32_t> parse_id_list(const std::string& text, const IdSpace& space,
                                   const std::string& where) {
  std::vector<int32_t> out;
  std::unordered_set<int32_t> seen;
  size_t start = 0;
  for (size_t comma = 0; comma != std::string::npos; start = comma + 1) {
    comma = text.find(',', start);
    const std::string raw(trim(std::string_view(text).substr(start, comma - start)));
    if (raw.empty()) throw std::invalid_argument(where + ": an empty " + space.what + " id");
    const int32_t id = lookup(space, raw);
    if (id < 0) throw std::invalid_argument(where + ": " + unknown(space, raw));
    if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<int32_t>>> read_lists(const std::string& path,
                                                                     const IdSpace& space) {
  TextFile f(path);
  std::vector<std::pair<std::string, std::vector<int32_t>>> out;
  std::string_view line;
  while (f.next(&line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      f.fail("expected NAME<TAB>" + std::string(space.what) + ",... (no tab)");
    }
    const std::string name(trim(line.substr(0, tab)));
    if (name.empty()) f.fail("empty name before the tab");
    try {
      out.emplace_back(name, parse_id_list(std::string(line.substr(tab + 1)), space, "list"));
    } catch (const std::invalid_argument& e) {
      // "list: 'x' is not an item of ..." -> "PATH:LINE: 'x' is not ..."
      f.fail(std::string(e.what()).substr(6));
    }
  }
  if (out.empty()) throw DataError(path + ": no lines");
  return out;
}

std::string list_line(const std::string& name, const Ranked& r, const IdMap& ids) {
  check_field(name, "name", "\t\r\n");
  std::string line = name + "\t";
  for (size_t j = 0; j < r.ids.size(); ++j) {
    const std::string& raw = ids.raw(r.ids[j]);
    check_field(raw, "id", ",\t\r\n");
    if (j > 0) line += ',';
    line += raw;
  }
  return line + "\n";
}

}  // namespace gnnrec
