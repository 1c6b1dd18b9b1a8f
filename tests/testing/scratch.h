// Helpers shared by the tests that touch the file system or expect an error:
// a fresh per-test scratch folder and "run this, return the error message".
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace gnnrec::testing {

// A fresh, empty folder under gtest's temporary directory, unique per test
// name and process; an existing one of the same name is cleared first.
inline std::string fresh_dir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = info != nullptr ? info->name() : "none";
  const std::filesystem::path p = std::filesystem::path(::testing::TempDir()) /
                                  (prefix + "_" + test + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// Base fixture: dir_ is a fresh folder for each test, removed afterwards.
class ScratchDirTest : public ::testing::Test {
 protected:
  explicit ScratchDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override { dir_ = fresh_dir(prefix_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` byte for byte to dir_/name (creating subfolders); returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = std::filesystem::path(dir_) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  std::string prefix_;
  std::string dir_;
};

// Runs f, expects an exception of type E, returns its message ("" and a
// test failure if f returned or threw something else).
template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

}  // namespace gnnrec::testing
