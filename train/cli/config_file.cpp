#include "train/cli/config_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

namespace gnnrec {
namespace {

// Control characters escaped, so that a message stays one line whatever
// the file's keys and strings hold.
std::string printable(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out;
}

// One config file being read: where errors point.
struct Source {
  std::string file;

  // "--config FILE:LINE: what" (no line when 0).
  [[noreturn]] void fail(uint32_t line, const std::string& what) const {
    std::string where = "--config " + file;
    if (line > 0) where += ":" + std::to_string(line);
    throw std::invalid_argument(printable(where + ": " + what));
  }
};

// toml++ 3.3, the version Debian ships, reaches TOML_UNREACHABLE (undefined
// behaviour) in is_non_ascii_horizontal_whitespace for most code points in
// U+00A1..U+0499 and U+FB46..U+FEFE (marzer/tomlplusplus#190, fixed upstream
// after 3.3; found here by fuzz/fuzz_config.cpp). The parser asks it about
// the characters where whitespace may come: outside strings and comments
// (where TOML allows only ASCII anyway), inside a value it scans to its end
// (1="é"), and after a backslash in a multi-line basic string. So the text
// is checked first, and a non-ASCII character is let through only where
// toml++ is known to be inside a comment or a string: a string that starts a
// line or follows a line's first '=' (key = "é"). After a quote anywhere
// else (an array of strings, an inline table, a broken value), toml++ may
// be inside a string or not, and every non-ASCII character is refused.
struct Unsafe {
  size_t at = std::string::npos;  // npos: none
  const char* what = "";
};

constexpr const char* kOutside = "a non-ASCII character outside a string or comment";
constexpr const char* kAfterQuote =
    "a non-ASCII character after a string other than 'key = \"...\"' (toml++ 3.3 cannot read "
    "it safely there)";
constexpr const char* kAfterBackslash =
    "a non-ASCII character after a backslash in a multi-line string (toml++ 3.3 cannot read it "
    "safely there)";

bool non_ascii(const std::string& text, size_t k) {
  return k < text.size() && (static_cast<unsigned char>(text[k]) & 0x80) != 0;
}

// How many c from text[k] on.
size_t run_of(const std::string& text, size_t k, char c) {
  size_t n = 0;
  while (k + n < text.size() && text[k + n] == c) ++n;
  return n;
}

// Skips the string whose opening quote is text[*k]: *k ends on its last
// closing quote (or before the newline that ends an unterminated one-line
// string). In a multi-line basic string, a non-ASCII character after a
// backslash (an escape, or after the whitespace and newlines that a
// line-ending backslash trims) is unsafe.
Unsafe skip_string(const std::string& text, size_t* k) {
  const char q = text[*k];
  const bool multi = run_of(text, *k, q) >= 3;
  for (size_t j = *k + (multi ? 3 : 1); j < text.size(); ++j) {
    if (text[j] == q && (!multi || run_of(text, j, q) >= 3)) {
      *k = multi ? j + run_of(text, j, q) - 1 : j;  // up to two quotes end the content
      return {};
    }
    if (!multi && text[j] == '\n') {
      *k = j - 1;  // unterminated: toml++ stops there
      return {};
    }
    if (q != '"' || text[j] != '\\') continue;
    ++j;  // an escape: the character after the backslash is taken as it is
    if (!multi) continue;
    size_t next = j;
    while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) ++next;
    if (next < text.size() && (text[next] == '\r' || text[next] == '\n')) {
      while (next < text.size() && std::strchr(" \t\r\n", text[next]) != nullptr) ++next;
    }
    if (non_ascii(text, j)) return {j, kAfterBackslash};
    if (non_ascii(text, next)) return {next, kAfterBackslash};
  }
  *k = text.size();
  return {};
}

Unsafe find_unsafe_non_ascii(const std::string& text) {
  bool strict = false;       // after a quote where a string is not certain
  bool line_start = true;    // only blanks so far on this line
  bool seen_equal = false;   // the line's first '=' has come (or the line continues a value)
  bool after_equal = false;  // right after it (blanks apart)
  int depth = 0;             // '[' and '{' open in values: a value spanning lines
  for (size_t k = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0; k < text.size(); ++k) {
    const char c = text[k];
    if (non_ascii(text, k)) return {k, strict ? kAfterQuote : kOutside};
    if (c == '\n') {
      line_start = depth == 0, seen_equal = depth > 0, after_equal = false;
      continue;
    }
    if (strict || c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '#') {  // a comment, to the end of the line
      while (k + 1 < text.size() && text[k + 1] != '\n') ++k;
    } else if (c == '"' || c == '\'') {
      if (!line_start && !after_equal) {
        strict = true;
        continue;
      }
      if (const Unsafe u = skip_string(text, &k); u.at != std::string::npos) return u;
    } else if (c == '=' && !seen_equal) {
      seen_equal = after_equal = true, line_start = false;
      continue;
    } else if (seen_equal && (c == '[' || c == '{')) {
      ++depth;
    } else if (seen_equal && (c == ']' || c == '}')) {
      depth = std::max(0, depth - 1);
    }
    line_start = after_equal = false;
  }
  return {};
}

// toml++'s description without its "Error while parsing " lead ("table
// header: expected ']', saw '\n'"); a key or table defined twice is
// "duplicate key 'lr'" / "duplicate section [train]".
std::string parse_message(const toml::parse_error& e) {
  std::string d(e.description());
  const std::string lead = "Error while parsing ";
  if (d.rfind(lead, 0) == 0) d = d.substr(lead.size());
  const std::string redefine = "cannot redefine existing ";
  const size_t at = d.find(": " + redefine);
  if (at == std::string::npos || d.back() != '\'') return d;
  const std::string rest = d.substr(at + 2 + redefine.size());  // "integer 'lr'"
  const size_t quote = rest.find('\'');
  if (quote == std::string::npos || quote == 0 || quote + 1 >= rest.size()) return d;
  const std::string what = rest.substr(0, quote - 1);
  const std::string name = rest.substr(quote + 1, rest.size() - quote - 2);
  return what == "table" ? "duplicate section [" + name + "]" : "duplicate key '" + name + "'";
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "true or false";
    case toml::node_type::array: return "a list";
    case toml::node_type::table: return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date or time";
    default: return "nothing";
  }
}

const char* expected_name(ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kString: return "a string";
    case ConfigKind::kInteger: return "an integer";
    case ConfigKind::kNumber: return "a number";
    case ConfigKind::kBool: return "true or false";
    case ConfigKind::kIntegerList: return "a list of integers";
  }
  return "?";
}

// The shortest text that reads back as x ("0.1", not "0.10000000000000001").
std::string number_text(double x) {
  for (const int digits : {15, 17}) {
    std::ostringstream os;
    os.precision(digits);
    os << x;
    if (digits == 17 || std::strtod(os.str().c_str(), nullptr) == x) return os.str();
  }
  return {};
}

// The flag value's text of `v` for a key of `kind`; empty when `v` has
// another type.
std::optional<std::string> value_text(const toml::node& v, ConfigKind kind) {
  switch (kind) {
    case ConfigKind::kString:
      if (const auto* s = v.as_string()) return s->get();
      break;
    case ConfigKind::kInteger:
      if (const auto* i = v.as_integer()) return std::to_string(i->get());
      break;
    case ConfigKind::kNumber:
      if (const auto* i = v.as_integer()) return std::to_string(i->get());
      if (const auto* x = v.as_floating_point()) return number_text(x->get());
      break;
    case ConfigKind::kBool:
      if (const auto* b = v.as_boolean()) return b->get() ? "true" : "false";
      break;
    case ConfigKind::kIntegerList: {
      if (const auto* i = v.as_integer()) return std::to_string(i->get());
      const auto* a = v.as_array();
      if (a == nullptr || a->empty() || !a->is_homogeneous(toml::node_type::integer)) break;
      std::string joined;
      for (const toml::node& e : *a) {
        joined += (joined.empty() ? "" : ",") + std::to_string(e.as_integer()->get());
      }
      return joined;
    }
  }
  return std::nullopt;
}

// What `v` is, for "expected ..., got <this>" (for a list of integers, what
// is wrong with the list).
std::string got_name(const toml::node& v, ConfigKind kind) {
  const auto* a = v.as_array();
  if (a == nullptr || kind != ConfigKind::kIntegerList) return type_name(v);
  if (a->empty()) return "an empty list";
  for (const toml::node& e : *a) {
    if (!e.is_integer()) return std::string("a list holding ") + type_name(e);
  }
  return "a list";
}

// The flags that the keys of one file expand to.
class Expansion {
 public:
  Expansion(const Source& src, const ConfigKeys& keys, const std::set<std::string>& given)
      : src_(src), keys_(keys), given_(given) {}

  void add_table(const toml::table& table, bool top_level) {
    for (const auto& [k, v] : table) {
      const std::string name(k.str());
      const uint32_t line = k.source().begin.line;
      if (const auto* section = v.as_table(); section != nullptr && !keys_.count(name)) {
        if (!top_level || name != "train") {
          src_.fail(line, "section [" + std::string(top_level ? "" : "train.") + name +
                              "] is not supported (keys go at the top level or under [train])");
        }
        add_table(*section, false);
        continue;
      }
      add(name, line, v);
    }
  }

  const std::vector<std::string>& flags() const { return flags_; }

 private:
  void add(const std::string& name, uint32_t line, const toml::node& v) {
    if (name == "config") src_.fail(line, "key 'config': nested config files are not supported");
    const auto key = keys_.find(name);
    if (key == keys_.end()) {
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      std::string hint;
      if (dashed != name && keys_.count(dashed)) {
        hint = " (keys are the long flag names: '" + dashed + "')";
      }
      src_.fail(line, "unknown key '" + name + "'" + hint);
    }
    if (const auto [it, fresh] = lines_.emplace(name, line); !fresh) {
      // At the top level and in [train]: the later line is the error.
      src_.fail(std::max(line, it->second), "duplicate key '" + name + "' (also on line " +
                                                std::to_string(std::min(line, it->second)) + ")");
    }
    const std::optional<std::string> text = value_text(v, key->second.kind);
    if (!text) {
      src_.fail(line, "key '" + name + "': expected " + expected_name(key->second.kind) + ", got " +
                          got_name(v, key->second.kind));
    }
    if (key->second.check) {
      try {
        key->second.check("key '" + name + "'", *text);
      } catch (const std::invalid_argument& e) {
        src_.fail(line, e.what());
      }
    }
    if (given_.count(name)) return;  // the command line wins
    if (key->second.kind == ConfigKind::kBool) {
      if (*text == "true") flags_.push_back("--" + name);
    } else {
      flags_.push_back("--" + name + "=" + *text);
    }
  }

  const Source& src_;
  const ConfigKeys& keys_;
  const std::set<std::string>& given_;
  std::map<std::string, uint32_t> lines_;  // key -> its line, for duplicates
  std::vector<std::string> flags_;
};

}  // namespace

std::vector<std::string> expand_config(const std::vector<std::string>& args,
                                       const ConfigKeys& keys) {
  const auto sub = std::find(args.begin(), args.end(), "train");
  if (sub == args.end()) return args;
  std::string file;
  std::set<std::string> given;
  for (auto it = sub + 1; it != args.end(); ++it) {
    if (it->rfind("--", 0) != 0) continue;
    const std::string name = it->substr(2, it->find('=') - 2);
    given.insert(name);
    if (name == "config") {
      if (it->find('=') != std::string::npos) file = it->substr(it->find('=') + 1);
      else if (it + 1 != args.end()) file = *(it + 1);
    }
  }
  if (file.empty()) return args;
  const Source src{file};
  std::ifstream in(file, std::ios::binary);
  if (!in) src.fail(0, std::string("cannot open: ") + std::strerror(errno));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) src.fail(0, std::string("cannot read: ") + std::strerror(errno));
  if (const Unsafe u = find_unsafe_non_ascii(text); u.at != std::string::npos) {
    const auto newlines = std::count(text.begin(), text.begin() + static_cast<long>(u.at), '\n');
    src.fail(static_cast<uint32_t>(newlines + 1), u.what);
  }
  toml::table root;
  try {
    root = toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& e) {
    src.fail(e.source().begin.line, parse_message(e));
  }
  Expansion expansion(src, keys, given);
  expansion.add_table(root, /*top_level=*/true);
  std::vector<std::string> out(args.begin(), sub + 1);
  out.insert(out.end(), expansion.flags().begin(), expansion.flags().end());
  out.insert(out.end(), sub + 1, args.end());
  return out;
}

}  // namespace gnnrec
