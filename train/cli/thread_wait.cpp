#include "train/cli/thread_wait.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace gnnrec {

void relaunch_with_passive_wait(int argc, char** argv) {
  if (argc < 2 || std::getenv("OMP_WAIT_POLICY") != nullptr ||
      std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  // --help and the like start no threads: not worth a second start.
  bool computes = false;
  for (const char* cmd : {"train", "evaluate", "recommend", "data", "export", "serve"}) {
    computes = computes || std::strcmp(argv[1], cmd) == 0;
  }
  if (!computes) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0) != 0) return;
  ::execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");  // the exec failed: run as we are
}

}  // namespace gnnrec
