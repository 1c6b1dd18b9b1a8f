// The data a run trains on: the data set after filtering and splitting, with
// its graphs (what `gnnrec train`, `evaluate`, `recommend`, `data split` and
// gnnrec.data load).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "graph/bipartite_graph.h"
#include "graph/ctr_split.h"
#include "graph/interactions.h"
#include "graph/typed_graph.h"
#include "train/config.h"

namespace gnnrec {

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
};

// Loads cfg.dataset (a directory, through the binary cache, or the built-in
// synthetic data), drops duplicate pairs, applies min_rating, kcore and the
// split (unless the data set ships one; under --protocol ctr, the CTR
// records and their 6:2:2 split instead, which a data set that ships a
// split cannot have), and builds the graphs. Throws DataError (file and line
// for bad files) or std::invalid_argument.
PreparedData prepare_data(const TrainConfig& cfg);

// --protocol ctr: every record of data.ctr with raw ids and its part
// ("user\titem\tlabel\tpart" lines: train, eval, test), written atomically
// to `path` (RUN_DIR/ctr_records.tsv), so that the split can be audited or
// handed to another tool.
void write_ctr_records(const std::string& path, const PreparedData& data);

}  // namespace gnnrec
