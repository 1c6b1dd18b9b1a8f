#include "train/checkpoint.h"

#include <cstring>
#include <stdexcept>
#include <string_view>

#include <ATen/ATen.h>

#include "train/run_dir.h"

namespace gnnrec {
namespace {

constexpr char kMagic[8] = {'G', 'N', 'N', 'R', 'E', 'C', 'K', '1'};

void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
uint64_t get_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
  throw std::runtime_error("checkpoint " + path + ": " + why);
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  nlohmann::json header{{"version", 1}, {"meta", ckpt.meta}, {"tensors", nlohmann::json::array()}};
  std::vector<at::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& nt : ckpt.tensors) {
    at::Tensor t = nt.tensor.detach().cpu().contiguous();
    TORCH_CHECK(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble ||
                    t.scalar_type() == at::kLong,
                "checkpoint: unsupported dtype for ", nt.name);
    header["tensors"].push_back({{"name", nt.name},
                                 {"dtype", std::string(c10::toString(t.scalar_type()))},
                                 {"shape", t.sizes().vec()},
                                 {"offset", offset},
                                 {"nbytes", t.nbytes()}});
    offset += t.nbytes();
    cpu.push_back(t);
  }
  const std::string hdr = header.dump();
  std::string out(kMagic, 8);
  put_u64(out, hdr.size());
  out += hdr;
  for (const auto& t : cpu) out.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  put_u64(out, checksum64(out.data(), out.size()));
  // Two parts, header then tensors: the test-only fault hook (train/
  // fault_injection.h) runs between them, i.e. mid-write.
  const std::string_view all(out);
  const size_t head = 16 + hdr.size();
  write_file_atomic(path, {all.substr(0, head), all.substr(head)});
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string data = read_file(path);
  if (data.size() < 24 || std::memcmp(data.data(), kMagic, 8) != 0) {
    corrupt(path, "not a gnnrec checkpoint (bad magic or too short)");
  }
  const size_t body = data.size() - 8;
  if (checksum64(data.data(), body) != get_u64(data.data() + body)) {
    corrupt(path, "checksum mismatch (truncated or corrupted file)");
  }
  const uint64_t hlen = get_u64(data.data() + 8);
  if (16 + hlen > body) corrupt(path, "header length out of range");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data.substr(16, hlen));
  } catch (const std::exception& e) {
    corrupt(path, std::string("bad header: ") + e.what());
  }
  Checkpoint ckpt;
  ckpt.meta = header.at("meta");
  const size_t base = 16 + hlen;
  for (const auto& t : header.at("tensors")) {
    const std::string dtype = t.at("dtype");
    const at::ScalarType st = dtype == "Float" ? at::kFloat : dtype == "Double" ? at::kDouble
                              : dtype == "Long" ? at::kLong : at::kByte;
    if (st == at::kByte) corrupt(path, "unknown dtype " + dtype);
    const std::vector<int64_t> shape = t.at("shape");
    const uint64_t off = t.at("offset"), nbytes = t.at("nbytes");
    if (base + off + nbytes > body) corrupt(path, "tensor data out of range");
    at::Tensor tensor = at::empty(shape, st);
    if (tensor.nbytes() != nbytes) corrupt(path, "tensor size does not match its shape");
    std::memcpy(tensor.data_ptr(), data.data() + base + off, nbytes);
    ckpt.tensors.push_back({t.at("name"), tensor});
  }
  return ckpt;
}

}  // namespace gnnrec
