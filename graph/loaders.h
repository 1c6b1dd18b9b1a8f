// Loaders for the interaction files of public recommendation data sets, and
// a writer for the LightGCN text format.
//
// Contract: every loader returns a Dataset whose IdMaps are canonical (dense
// ids follow raw-id order, numeric when all ids are integers; see
// IdMap::canonicalize), so for files whose ids are already 0..n-1 the dense
// ids equal the raw ones. Numeric raw ids are stored in their decimal form
// ("007" becomes "7"). Every problem with the input throws DataError whose
// what() is one line naming the file, and the line where there is one:
//   "<path>: cannot open: No such file or directory"
//   "<path>:<line>: expected 4 fields separated by '::', got 3"
//   "<path>:<line>: field 2 ('abc') is not an integer"
//   "<path>:<line>: id -5 out of range [0, 2147483647]"
//   "<path>:<line>: field 3 ('nan') is not a finite number"
//   "<path>: no interactions"
// Empty (or blank) lines, a missing final newline and "\r\n" line ends are
// accepted everywhere. Loaders read the whole file into memory and keep no
// state: they are safe to call concurrently.
#pragma once

#include <string>
#include <vector>

#include "graph/interactions.h"

namespace gnnrec {

// Detects the format from the files present in `dir`, in this order:
// train.txt (+ optional test.txt) -> "lightgcn"; u.data -> "ml-100k";
// ratings.dat -> "ml-1m"; user_artists.dat -> "kgcn" (graph/kg_loaders.h);
// exactly one *.inter file -> "recbole"; exactly one *.csv or *.tsv file ->
// "csv". The first that matches wins.
// Throws DataError naming the directory and what was looked for when none
// matches, when several *.inter or several *.csv/*.tsv files make the
// choice ambiguous (listing them), or when `dir` does not exist or is not a
// directory.
std::string detect_format(const std::string& dir);

// The files load_dataset(dir) reads, in a fixed order (for cache
// fingerprints). Throws like detect_format.
std::vector<std::string> dataset_source_files(const std::string& dir);

// detect_format + the matching loader; Dataset::name is the directory's base
// name, Dataset::format the detected format. (Called directly, the file
// loaders below name the Dataset after the folder holding the file.)
Dataset load_dataset(const std::string& dir);

// LightGCN text: each line `user item item ...` (spaces or tabs), integer
// ids in [0, 2^31). Reads dir/train.txt and, when present, dir/test.txt into
// Dataset::test. A user line without items is skipped. Users come from
// train.txt only: a test.txt user with items but no training interactions
// is an error ("<dir>/test.txt:<line>: user 17 has no training
// interactions"); items seen only in test.txt are accepted.
Dataset load_lightgcn(const std::string& dir);

// MovieLens 100K u.data: `user item rating timestamp`, tab-separated
// (runs of tabs/spaces accepted). Ratings and timestamps are kept.
Dataset load_movielens_100k(const std::string& u_data_path);

// MovieLens 1M ratings.dat: `user::item::rating::timestamp`.
Dataset load_movielens_1m(const std::string& ratings_dat);

// Delimited text with a header line naming the columns. Required: a user and
// an item column; optional rating and timestamp. Accepted header names
// (case-insensitive): user|user_id|userid|uid,
// item|item_id|itemid|iid|movie_id|movieid, rating|score,
// timestamp|time|ts; other columns are ignored. The delimiter is the most
// frequent of ',', '\t', ';', '|' in the header. Fields may be enclosed in
// double quotes (a doubled quote inside stands for one). Ids are arbitrary
// strings (surrounding blanks trimmed); ratings must be finite numbers and
// timestamps integers.
Dataset load_delimited(const std::string& path);

// RecBole's NAME.inter (graph/recbole.h for the header and rows): the
// token fields user_id and item_id (ids kept as written, strings as
// load_delimited's), optional float fields rating and timestamp (a timestamp
// rounded down to whole seconds); other fields are ignored. Format
// "recbole". Its knowledge graph and features: load_recbole_kg and
// load_recbole_side (graph/kg_loaders.h).
Dataset load_recbole(const std::string& inter_path);

// Writes dir/train.txt and dir/test.txt (empty when ds is not split) in
// LightGCN text format using DENSE ids: one line per user with at least one
// interaction in that part, users ascending, items in the order of the
// interaction list. Used to hand the exact same split to reference
// implementations. Creates `dir` if needed; each file is written to a
// temporary name and renamed, so readers never see a partial file. Throws
// DataError when a file cannot be written.
void write_lightgcn(const Dataset& ds, const std::string& dir);

}  // namespace gnnrec
