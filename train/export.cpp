#include "train/export.h"

#include <filesystem>
#include <stdexcept>

#include <ATen/ATen.h>

#include "base/file_io.h"
#include "base/npy.h"
#include "graph/text.h"
#include "train/run_dir.h"

namespace gnnrec {

std::string id_lines(const IdMap& ids, const char* what) {
  std::string out;
  for (const std::string& raw : ids.raw_ids()) {
    if (raw.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument(std::string("the ") + what + " id '" + shown(raw) +
                                  "' holds a line break; it cannot be written one per line");
    }
    out += raw;
    out += '\n';
  }
  return out;
}

nlohmann::json export_run(const ServingRun& s, const std::string& out_dir) {
  ensure_writable_dir(out_dir);
  const std::filesystem::path out(out_dir);
  // Every check before the first file is written.
  const std::string user_lines = id_lines(s.user_ids(), "user");
  const std::string item_lines = id_lines(s.item_ids(), "item");
  const nlohmann::json card = model_card(s);
  write_npy_float32((out / "users.npy").string(), s.users.data_ptr<float>(),
                    {s.users.size(0), s.users.size(1)});
  write_npy_float32((out / "items.npy").string(), s.items.data_ptr<float>(),
                    {s.items.size(0), s.items.size(1)});
  write_file_atomic((out / "user_ids.txt").string(), user_lines);
  write_file_atomic((out / "item_ids.txt").string(), item_lines);
  write_file_atomic((out / "card.json").string(), card.dump(2) + "\n");
  return card;
}

}  // namespace gnnrec
