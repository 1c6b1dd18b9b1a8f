// RecBole's atomic files (https://recbole.io/docs/user_guide/data/atomic_files.html):
// the header and rows shared by NAME.inter, NAME.user, NAME.item, NAME.kg and
// NAME.link, read through graph/text.h. The loaders are load_recbole
// (graph/loaders.h) and load_recbole_kg / load_recbole_side
// (graph/kg_loaders.h).
//
// A file is tab-separated. Its first non-blank line is the header: one
// `name:type` entry per column, type token, token_seq, float or float_seq
// (RecBole's four feature types; a name is split from its type at the first
// ':'), no name twice. Every row has as many fields as the header; a field
// may be enclosed in double quotes, as pandas (which RecBole reads with)
// allows. The field names are RecBole's defaults: user_id, item_id, rating,
// timestamp (USER_ID_FIELD, ITEM_ID_FIELD, RATING_FIELD, TIME_FIELD),
// head_id, relation_id, tail_id and entity_id. Errors are DataError
// "FILE:LINE: what", as every loader's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "graph/text.h"

namespace gnnrec {

enum class AtomicType { kToken, kTokenSeq, kFloat, kFloatSeq };

// An atomic file's header: the columns' names and types.
struct AtomicHeader {
  std::vector<std::string> names;
  std::vector<AtomicType> types;
  size_t size() const { return names.size(); }
  // The column named `name`, -1 when there is none.
  int find(std::string_view name) const;
};

// Reads the header from `file`'s first non-blank line into `out`; false when
// the file has none. Fails on a column without ':type', with an empty name or
// an unknown type, and on a name given twice.
bool read_atomic_header(TextFile& file, AtomicHeader* out);

// The column of `name`, which must be in the header with type `type`
// ("header has no user_id field (expected user_id:token)"); optional_field
// returns -1 when it is absent but fails as well when its type differs.
int require_field(const TextFile& file, const AtomicHeader& h, const char* name, AtomicType type);
int optional_field(const TextFile& file, const AtomicHeader& h, const char* name, AtomicType type);

// Splits `file`'s current row `line` into exactly `h.size()` fields
// ("expected 4 fields separated by tabs, got 3").
void split_atomic_row(const TextFile& file, const AtomicHeader& h, std::string_view line,
                      std::vector<std::string>* out);

// Field `col` of a split row as a token: as written, and not empty ("empty
// user_id (field 1)").
const std::string& atomic_token(const TextFile& file, const AtomicHeader& h,
                                const std::vector<std::string>& row, int col);

}  // namespace gnnrec
