// The data a run trains on: the data set after filtering and splitting, with
// its graphs (what `gnnrec train`, `evaluate`, `recommend`, `data split` and
// gnnrec.data load).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "graph/bipartite_graph.h"
#include "graph/ctr_split.h"
#include "graph/interactions.h"
#include "graph/typed_graph.h"
#include "train/config.h"

namespace gnnrec {

// What a run records of its inputs, as config.json's "data": every file it
// read with its fingerprint (base/file_io.h: "SIZE:HASH"), named relative
// to the data set's folder, and a fingerprint of the split it made (train
// and test pairs, and the CTR records), so that `evaluate`, `recommend` and
// `--resume` can tell that they are looking at the same data.
struct DataRecord {
  std::vector<std::pair<std::string, std::string>> files;  // name, fingerprint
  std::string split;
};
void to_json(nlohmann::json& j, const DataRecord& r);
// Throws std::invalid_argument naming `where` for a malformed record.
DataRecord data_record_from_json(const nlohmann::json& j, const std::string& where);

// The data set after filtering and splitting, with its graphs.
struct PreparedData {
  Dataset dataset;
  std::shared_ptr<const BipartiteGraph> train;
  std::shared_ptr<const BipartiteGraph> test;
  // The knowledge graph or side information beside the interactions
  // (graph/kg_loaders.h: load_side_graph), aligned with the final ids; nullptr
  // when the data set has none or the configuration turns it off (side_info).
  std::shared_ptr<const TypedGraph> side;
  // --protocol ctr: the labelled records (graph/ctr_split.h); `train` and
  // `test` are then the label-1 records of their parts. Unset otherwise.
  std::optional<CtrSplit> ctr;
  // The record of the inputs (see DataRecord); files fingerprinted before
  // they are read.
  DataRecord record;
  // What the caller should tell the user about the data (one line each),
  // e.g. test pairs that repeat training pairs.
  std::vector<std::string> warnings;
};

// Loads cfg.dataset (a directory, through the binary cache, or the built-in
// synthetic data), drops duplicate pairs, applies min_rating, kcore and the
// split (unless the data set ships one; under --protocol ctr, the CTR
// records and their 6:2:2 split instead, which a data set that ships a
// split cannot have), and builds the graphs. Throws DataError (file and line
// for bad files) or std::invalid_argument.
PreparedData prepare_data(const TrainConfig& cfg);

// The "data" record of the run whose config.json is `config_path`; nullopt
// when it has none (a run written before gnnrec kept one).
std::optional<DataRecord> read_data_record(const std::string& config_path);

// Throws std::invalid_argument "<what>: the data differ from those the run
// was trained on: DIR/FILE changed (trained on SIZE:HASH, now SIZE:HASH)",
// or names the split, or a file added or gone, when `now` is not `recorded`.
void check_same_data(const DataRecord& recorded, const DataRecord& now, const std::string& dataset,
                     const std::string& what);

// --protocol ctr: every record of data.ctr with raw ids and its part
// ("user\titem\tlabel\tpart" lines: train, eval, test), written atomically
// to `path` (RUN_DIR/ctr_records.tsv), so that the split can be audited or
// handed to another tool.
void write_ctr_records(const std::string& path, const PreparedData& data);

}  // namespace gnnrec
