// `gnnrec recommend --user ID`: the raw id is looked up in the data set's
// user IdMap (IdMap::find after the loaders' intern + canonicalize). Input:
// the raw ids, one a line, then a NUL byte and the --user string. Checks
// that the map round-trips, that a lookup returns -1 or the id itself, and
// that find_integer ("007" for "7") returns -1 or an id of the same value.
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  const auto parts = split_parts(data, size, 2);
  gnnrec::IdMap users;
  std::string_view ids = parts[0];
  while (!ids.empty()) {
    const size_t nl = ids.find('\n');
    users.intern(std::string(ids.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    ids.remove_prefix(nl + 1);
  }
  const std::vector<int32_t> old_to_new = users.canonicalize();
  if (static_cast<int64_t>(old_to_new.size()) != users.size()) finding("canonicalize size");
  for (int32_t u = 0; u < users.size(); ++u) {
    if (users.find(users.raw(u)) != u) finding("IdMap does not round-trip after canonicalize");
    if (u > 0 && users.raw(u) == users.raw(u - 1)) finding("duplicate raw id");
  }
  const std::string user(parts.size() > 1 ? parts[1] : std::string_view("196"));
  const int32_t u = users.find(user);
  if (u < -1 || u >= users.size()) finding("find out of range");
  if (u >= 0 && users.raw(u) != user) finding("find returned another id");
  // find_integer: -1, or an id whose raw form is the decimal spelling of
  // the integer `user` spells another way.
  const int32_t v = users.find_integer(user);
  if (v < -1 || v >= users.size()) finding("find_integer out of range");
  if (v >= 0) {
    if (users.raw(v) == user) finding("find_integer matched the spelling itself");
    const std::string& d = users.raw(v);
    const std::string digits = d[0] == '-' ? d.substr(1) : d;
    std::string_view w = user;
    const bool negative = !w.empty() && w[0] == '-';
    if (!w.empty() && (w[0] == '+' || w[0] == '-')) w.remove_prefix(1);
    while (w.size() > 1 && w[0] == '0') w.remove_prefix(1);
    if (w != digits || (negative != (d[0] == '-') && digits != "0")) {
      finding("find_integer returned an id of another value");
    }
  }
  return 0;
}
