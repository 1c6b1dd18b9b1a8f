// What `gnnrec serve` answers, apart from HTTP: each request's parameters in,
// a status and a JSON body out (serve/http_server.h puts it on the wire).
// docs/serving.md lists the endpoints:
//   GET  /health
//   GET  /recommend?user=ID&k=K[&index=hnsw]   top K unseen items of a user
//   POST /recommend  {"items": [ID, ...], "k": K}  fold-in of a new user
//   GET  /similar?item=ID&k=K                 items by cosine similarity
// A bad request is a 4xx status and {"error": "..."}: 400 for a malformed
// one (a missing or non-integer parameter, k out of [1, max_k], JSON that
// does not parse or lacks "items"), 404 for an unknown user or item id, 501
// when the model has no fold-in. Never an exception.
//
// Thread-safety: a Service only reads what it was given (the factors, the
// recommender, the fold-in and the index are immutable once built), so any
// number of HTTP worker threads may call it at once without a lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "train/fold_in.h"
#include "train/recommend.h"
#include "train/serving_run.h"

namespace gnnrec {

struct Reply {
  int status = 200;
  nlohmann::json body;
};

// The query parameters of a request (name -> value).
using Params = std::multimap<std::string, std::string>;

class Service {
 public:
  // All must outlive the Service; fold_in may be null (the model has none,
  // for the reason `no_fold_in`).
  Service(const ServingRun& s, const Recommender& recommender, const FoldIn* fold_in,
          std::string no_fold_in, int64_t max_k);

  Reply health() const;
  Reply recommend(const Params& params) const;
  Reply recommend_new_user(const Params& params, const std::string& body) const;
  Reply similar(const Params& params) const;

  int64_t max_k() const { return max_k_; }

 private:
  // The parameter's single value, or an error reply in `error`.
  const std::string* param(const Params& params, const std::string& name, Reply* error) const;
  bool parse_k(const Params& params, int64_t* k, Reply* error) const;
  bool parse_index(const Params& params, bool* use_index, Reply* error) const;
  // The new user's items of a POST body, as dense ids, and its k.
  bool parse_body(const std::string& body, std::vector<int32_t>* items, int64_t* k,
                  Reply* error) const;
  nlohmann::json listed(const Ranked& r, const IdMap& ids) const;

  const ServingRun& s_;
  const Recommender& recommender_;
  const FoldIn* fold_in_;
  std::string no_fold_in_;
  int64_t max_k_;
  at::Tensor unit_items_;  // items / ‖items‖ (zero rows stay zero), for /similar
};

// {"error": message} with the status.
Reply error_reply(int status, const std::string& message);

}  // namespace gnnrec
