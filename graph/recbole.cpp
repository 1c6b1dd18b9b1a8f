#include "graph/recbole.h"

#include <string>

namespace gnnrec {
namespace {

constexpr const char* kTypeNames[] = {"token", "token_seq", "float", "float_seq"};

const char* type_name(AtomicType t) { return kTypeNames[static_cast<int>(t)]; }

}  // namespace

int AtomicHeader::find(std::string_view name) const {
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k] == name) return static_cast<int>(k);
  }
  return -1;
}

bool read_atomic_header(TextFile& file, AtomicHeader* out) {
  std::string_view line;
  if (!file.next(&line)) return false;
  std::vector<std::string> fields;
  split_delimited(line, '\t', &fields);
  out->names.clear();
  out->types.clear();
  for (size_t k = 0; k < fields.size(); ++k) {
    const std::string& f = fields[k];
    const std::string where = "header field " + std::to_string(k + 1) + " ('" + shown(f) + "')";
    const size_t colon = f.find(':');
    if (colon == std::string::npos) {
      file.fail(where +
                " has no ':type' (expected name:type, type token, token_seq, float or "
                "float_seq)");
    }
    const std::string name = f.substr(0, colon);
    const std::string type = f.substr(colon + 1);
    if (name.empty()) file.fail(where + " has an empty name");
    int t = 0;
    while (t < 4 && type != kTypeNames[t]) ++t;
    if (t == 4) {
      file.fail(where + " has an unknown type '" + shown(type) +
                "' (expected token, token_seq, float or float_seq; fields are separated by tabs)");
    }
    if (const int first = out->find(name); first >= 0) {
      file.fail("header names field '" + shown(name) + "' twice (fields " +
                std::to_string(first + 1) + " and " + std::to_string(k + 1) + ")");
    }
    out->names.push_back(name);
    out->types.push_back(static_cast<AtomicType>(t));
  }
  return true;
}

int optional_field(const TextFile& file, const AtomicHeader& h, const char* name, AtomicType type) {
  const int col = h.find(name);
  if (col >= 0 && h.types[static_cast<size_t>(col)] != type) {
    file.fail("field '" + std::string(name) + "' has type " +
              type_name(h.types[static_cast<size_t>(col)]) + " (expected " + name + ":" +
              type_name(type) + ")");
  }
  return col;
}

int require_field(const TextFile& file, const AtomicHeader& h, const char* name, AtomicType type) {
  const int col = optional_field(file, h, name, type);
  if (col < 0) {
    file.fail("header has no " + std::string(name) + " field (expected " + name + ":" +
              type_name(type) + ")");
  }
  return col;
}

void split_atomic_row(const TextFile& file, const AtomicHeader& h, std::string_view line,
                      std::vector<std::string>* out) {
  split_delimited(line, '\t', out);
  if (out->size() != h.size()) {
    file.fail("expected " + std::to_string(h.size()) + " fields separated by tabs, got " +
              std::to_string(out->size()));
  }
}

const std::string& atomic_token(const TextFile& file, const AtomicHeader& h,
                                const std::vector<std::string>& row, int col) {
  const std::string& tok = row[static_cast<size_t>(col)];
  if (tok.empty()) {
    file.fail("empty " + h.names[static_cast<size_t>(col)] + " (field " + std::to_string(col + 1) +
              ")");
  }
  return tok;
}

}  // namespace gnnrec
