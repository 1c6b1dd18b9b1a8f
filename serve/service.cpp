#include "serve/service.h"

#include <charconv>
#include <exception>
#include <string>
#include <unordered_set>
#include <utility>

#include <ATen/ATen.h>

namespace gnnrec {
using nlohmann::json;

Reply error_reply(int status, const std::string& message) {
  return {status, json{{"error", message}}};
}

Service::Service(const ServingRun& s, const Recommender& recommender, const FoldIn* fold_in,
                 std::string no_fold_in, int64_t max_k)
    : s_(s), recommender_(recommender), fold_in_(fold_in), no_fold_in_(std::move(no_fold_in)),
      max_k_(max_k) {
  const at::Tensor norms = s.items.norm(2, 1, /*keepdim=*/true);
  unit_items_ = (s.items / at::where(norms > 0, norms, at::ones_like(norms))).contiguous();
}

Reply Service::health() const {
  json body = served_factors(s_);
  body.update({{"status", "ok"},
               {"index", recommender_.has_index() ? "hnsw" : "none"},
               {"fold_in", fold_in_ != nullptr ? json(fold_in_->method()) : json(nullptr)},
               {"max_k", max_k_}});
  return {200, body};
}

const std::string* Service::param(const Params& params, const std::string& name,
                                  Reply* error) const {
  const auto n = params.count(name);
  if (n == 1) return &params.find(name)->second;
  *error =
      error_reply(400, n == 0 ? "missing parameter '" + name + "'"
                              : "parameter '" + name + "' given " + std::to_string(n) + " times");
  return nullptr;
}

bool Service::parse_k(const Params& params, int64_t* k, Reply* error) const {
  *k = 10;
  if (params.count("k") == 0) return true;
  const std::string* text = param(params, "k", error);
  if (text == nullptr) return false;
  int64_t v = 0;
  const char* end = text->data() + text->size();
  const auto [p, ec] = std::from_chars(text->data(), end, v);
  if (text->empty() || ec != std::errc() || p != end || v < 1 || v > max_k_) {
    *error = error_reply(
        400, "k must be an integer in [1, " + std::to_string(max_k_) + "], got '" + *text + "'");
    return false;
  }
  *k = v;
  return true;
}

bool Service::parse_index(const Params& params, bool* use_index, Reply* error) const {
  *use_index = false;
  if (params.count("index") == 0) return true;
  const std::string* text = param(params, "index", error);
  if (text == nullptr) return false;
  if (*text == "exact") return true;
  if (*text != "hnsw") {
    *error = error_reply(400, "index must be 'hnsw' or 'exact', got '" + *text + "'");
    return false;
  }
  if (!recommender_.has_index()) {
    *error = error_reply(400, "index=hnsw: this server was started without --index hnsw");
    return false;
  }
  *use_index = true;
  return true;
}

json Service::listed(const Ranked& r, const IdMap& ids) const {
  json items = json::array(), scores = json::array();
  for (size_t j = 0; j < r.ids.size(); ++j) {
    items.push_back(ids.raw(r.ids[j]));
    scores.push_back(r.scores[j]);
  }
  return {{"items", items}, {"scores", scores}};
}

Reply Service::recommend(const Params& params) const {
  Reply error;
  const std::string* user = param(params, "user", &error);
  int64_t k = 0;
  bool use_index = false;
  if (user == nullptr || !parse_k(params, &k, &error) || !parse_index(params, &use_index, &error)) {
    return error;
  }
  const std::string& format = s_.run.data.dataset.format;
  const int32_t u = find_raw_id(s_.user_ids(), *user, format);
  if (u < 0) {
    return error_reply(
        404, unknown_id_message(s_.user_ids(), *user, "user", s_.run.config.dataset, format));
  }
  json out = listed(recommender_.top_k({u}, k, use_index)[0], s_.item_ids());
  out["user"] = *user;
  out["index"] = use_index ? "hnsw" : "exact";
  return {200, out};
}

Reply Service::similar(const Params& params) const {
  Reply error;
  const std::string* item = param(params, "item", &error);
  int64_t k = 0;
  if (item == nullptr || !parse_k(params, &k, &error)) return error;
  if (s_.score_matrix) {
    return error_reply(501, s_.run.config.model +
                                " has no item vectors to compare (its ranking "
                                "is a score matrix)");
  }
  const std::string& format = s_.run.data.dataset.format;
  const int32_t i = find_raw_id(s_.item_ids(), *item, format);
  if (i < 0) {
    return error_reply(
        404, unknown_id_message(s_.item_ids(), *item, "item", s_.run.config.dataset, format));
  }
  json out = listed(top_k_rows(unit_items_, unit_items_[i], k, {i}), s_.item_ids());
  out["item"] = *item;
  out["similarity"] = "cosine";
  return {200, out};
}

bool Service::parse_body(const std::string& body, std::vector<int32_t>* items, int64_t* k,
                         Reply* error) const {
  const char* shape = "expected a JSON object {\"items\": [ID, ...], \"k\": K}";
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    *error = error_reply(400, std::string("the request body is not JSON: ") + e.what());
    return false;
  }
  if (!j.is_object() || !j.contains("items")) {
    *error = error_reply(400, shape);
    return false;
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "items" && key != "k") {
      *error = error_reply(400, "unknown key '" + key + "'; " + shape);
      return false;
    }
  }
  *k = 10;
  if (j.contains("k")) {
    const json& v = j["k"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > max_k_) {
      *error = error_reply(
          400, "k must be an integer in [1, " + std::to_string(max_k_) + "], got " + v.dump());
      return false;
    }
    *k = v.get<int64_t>();
  }
  const json& list = j["items"];
  if (!list.is_array() || list.empty()) {
    *error = error_reply(400, "items must be a non-empty list of item ids");
    return false;
  }
  const std::string& format = s_.run.data.dataset.format;
  std::unordered_set<int32_t> seen;
  for (const json& v : list) {
    if (!v.is_string() && !v.is_number_integer()) {
      *error = error_reply(400, "an item id must be a string or an integer, got " + v.dump());
      return false;
    }
    const std::string raw = v.is_string() ? v.get<std::string>() : v.dump();
    const int32_t i = find_raw_id(s_.item_ids(), raw, format);
    if (i < 0) {
      *error = error_reply(
          404, unknown_id_message(s_.item_ids(), raw, "item", s_.run.config.dataset, format));
      return false;
    }
    if (seen.insert(i).second) items->push_back(i);
  }
  return true;
}

Reply Service::recommend_new_user(const Params& params, const std::string& body) const {
  if (fold_in_ == nullptr) return error_reply(501, no_fold_in_);
  Reply error;
  std::vector<int32_t> items;
  int64_t k = 0;
  bool use_index = false;
  if (!parse_index(params, &use_index, &error) || !parse_body(body, &items, &k, &error)) {
    return error;
  }
  const at::Tensor q = fold_in_->new_user(items);
  json out = listed(recommender_.top_k_for(q, k, items, use_index), s_.item_ids());
  out["fold_in"] = fold_in_->method();
  out["index"] = use_index ? "hnsw" : "exact";
  return {200, out};
}

}  // namespace gnnrec
