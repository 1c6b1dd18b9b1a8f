// The trainer with --device cuda against the same run on the CPU: the pairs
// and negatives of every epoch are equal (sample_negatives gives equal draws
// on both devices), so the losses and metrics agree up to the rounding of
// the GPU's summation order and its fused Adam; a resumed CUDA run agrees
// with an uninterrupted one; a user with every item stops the run with the
// operator's error on both devices (the CPU part runs everywhere).
//
// Suites that need a GPU are named Cuda* (scripts/gpu/run_checks.sh selects
// them) and start with
//   if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/testing/scratch.h"
#include "tests/testing/train_runs.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace gnnrec {
namespace {
using nlohmann::json;

using gnnrec::testing::metric_lines;

// The shared small configuration, 4 epochs evaluated each, on `device`.
TrainConfig config(const std::string& name, const std::string& model, const std::string& loss,
                   const std::string& device) {
  TrainConfig c = gnnrec::testing::small_config(
      gnnrec::testing::fresh_dir("cuda_trainer_" + name + "_" + device));
  c.model = model;
  c.loss = parse_enum<Loss>("loss", loss);
  c.epochs = 4;
  c.eval_every = 1;
  c.device = parse_device_spec("device", device);
  return c;
}

json run(const TrainConfig& c, bool resume = false) {
  TrainOptions o;
  o.quiet = true;
  o.resume = resume;
  return train(c, o);
}

void expect_runs_agree(const std::string& a_dir, const std::string& b_dir, double loss_rtol,
                       double metric_atol) {
  const auto a = metric_lines(a_dir), b = metric_lines(b_dir);
  ASSERT_EQ(a.size(), b.size());
  for (size_t e = 0; e < a.size(); ++e) {
    SCOPED_TRACE(::testing::Message() << "evaluation " << e);
    EXPECT_EQ(a[e]["epoch"], b[e]["epoch"]);
    const double la = a[e]["loss"], lb = b[e]["loss"];
    EXPECT_NEAR(la, lb, loss_rtol * std::abs(la));
    for (const char* m : {"recall@20", "ndcg@20"}) {
      const double ma = a[e]["metrics"][m], mb = b[e]["metrics"][m];
      EXPECT_NEAR(ma, mb, metric_atol) << m;
    }
  }
}

TEST(CudaTrainer, MatchesTheCpuRunUpToRounding) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const auto& [model, loss] : std::vector<std::pair<std::string, std::string>>{
           {"lightgcn", "bpr"}, {"mf", "bce"}, {"lightgcn", "mse"}}) {
    SCOPED_TRACE(model + " " + loss);
    const TrainConfig cpu = config(model + loss, model, loss, "cpu");
    const TrainConfig gpu = config(model + loss, model, loss, "cuda");
    run(cpu);
    const json s = run(gpu);
    EXPECT_EQ(s["device"], "cuda");
    // The first epoch starts from equal parameters on equal batches: its
    // mean loss differs only by rounding; later epochs drift a little.
    expect_runs_agree(cpu.out, gpu.out, 1e-3, 0.02);
    const double first_cpu = metric_lines(cpu.out)[0]["loss"];
    const double first_gpu = metric_lines(gpu.out)[0]["loss"];
    EXPECT_NEAR(first_cpu, first_gpu, 1e-4 * std::abs(first_cpu));
  }
}

TEST(CudaTrainer, ResumeAgreesWithAnUninterruptedRun) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const TrainConfig full = config("full", "lightgcn", "bpr", "cuda");
  run(full);
  TrainConfig part = config("part", "lightgcn", "bpr", "cuda");
  part.epochs = 2;
  run(part);
  part.epochs = 4;
  run(part, /*resume=*/true);
  // Equal batches, negatives and state at the resume point; the GPU's
  // index_select backward adds with atomics, so equal up to rounding (which
  // may swap two nearly tied items in a user's top 20).
  expect_runs_agree(full.out, part.out, 1e-5, 0.01);
}

// User 7 (raw id) has every item in training: BPR has no negative for it.
std::string full_user_dataset() {
  std::string dir = gnnrec::testing::fresh_dir("full_user_data");
  std::ofstream(dir + "/train.txt") << "7 0 1 2 3 4\n8 0 1\n9 2\n";
  std::ofstream(dir + "/test.txt") << "8 3\n9 4\n";
  return dir;
}

void expect_no_negative_error(const std::string& device) {
  TrainConfig c = config("full_user", "mf", "bpr", device);
  c.dataset = full_user_dataset();
  try {
    run(c);
    ADD_FAILURE() << "training a user with every item did not throw";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("sample_negatives: user 0"), std::string::npos) << what;
    EXPECT_NE(what.find("no negative exists"), std::string::npos) << what;
  }
}

TEST(CudaTrainerHost, UserWithEveryItemStopsTheCpuRun) { expect_no_negative_error("cpu"); }

TEST(CudaTrainer, UserWithEveryItemStopsTheCudaRunWithoutHanging) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  expect_no_negative_error("cuda");
}

}  // namespace
}  // namespace gnnrec
