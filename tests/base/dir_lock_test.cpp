// DirLock (base/dir_lock.h): one holder at a time, within a process too;
// released with its holder; the refusal names the directory and the pid.
#include "base/dir_lock.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/data_error.h"
#include "base/file_io.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

TEST(DirLock, OneHolderAtATimeAndTheRefusalNamesIt) {
  const std::string dir = testing::fresh_dir("gnnrec_dir_lock");
  auto first = std::make_unique<DirLock>(dir);
  EXPECT_EQ(read_file(dir + "/.lock"), std::to_string(::getpid()) + "\n");
  EXPECT_EQ(testing::error_of<DataError>([&] { DirLock second(dir); }),
            dir + " is in use by another gnnrec process (pid " + std::to_string(::getpid()) +
                "); wait for it to finish or choose another --out");
  first.reset();
  DirLock again(dir);  // released with its holder
  EXPECT_TRUE(std::filesystem::exists(dir + "/.lock"));
}

TEST(DirLock, MissingDirectoryIsAnError) {
  const std::string dir = testing::fresh_dir("gnnrec_dir_lock") + "/absent";
  EXPECT_NE(
      testing::error_of<DataError>([&] { DirLock lock(dir); }).find("/absent/.lock: cannot write"),
      std::string::npos);
}

}  // namespace
}  // namespace gnnrec
