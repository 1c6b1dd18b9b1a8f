#include "train/cli/plot_command.h"

#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace fs = std::filesystem;

#ifndef GNNREC_DEFAULT_PYTHON
#define GNNREC_DEFAULT_PYTHON ""
#endif
#ifndef GNNREC_PYTHON_SOURCE_DIR
#define GNNREC_PYTHON_SOURCE_DIR ""
#endif

namespace gnnrec {
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// The last non-empty line of `path` (the plotter's error says why), and
// removes the file.
std::string last_line_of(const fs::path& path) {
  std::string last;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
  }
  std::error_code ec;
  fs::remove(path, ec);
  return last;
}

// Runs `<python> -m gnnrec.plot ARGS...` with its stderr in `err_file`
// (stdout dropped when `quiet`); nullopt when it succeeded, else why not.
std::optional<std::string> run_plotter(const std::vector<std::string>& args, bool quiet,
                                       const fs::path& err_file) {
  const char* env_python = std::getenv("GNNREC_PYTHON");
  const std::string python =
      (env_python != nullptr && *env_python != '\0') ? env_python : GNNREC_DEFAULT_PYTHON;
  if (python.empty()) return "no Python interpreter (set GNNREC_PYTHON)";
  if (python.find('/') != std::string::npos && !fs::exists(python)) {
    return "Python interpreter " + python + " not found (set GNNREC_PYTHON)";
  }
  std::string pythonpath = GNNREC_PYTHON_SOURCE_DIR;
  const char* old_path = std::getenv("PYTHONPATH");
  if (old_path != nullptr && *old_path != '\0') {
    pythonpath = pythonpath.empty() ? std::string(old_path) : pythonpath + ":" + old_path;
  }
  std::string cmd = "PYTHONPATH=" + shell_quote(pythonpath) + " GNNREC_NO_LIBRARY=1 " +
                    shell_quote(python) + " -m gnnrec.plot";
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += std::string(quiet ? " >/dev/null" : "") + " 2>" + shell_quote(err_file.string()) +
         " </dev/null";
  std::fflush(stdout);
  const int status = std::system(cmd.c_str());
  const int saved_errno = errno;
  const std::string err = last_line_of(err_file);
  if (status == -1) return "cannot run " + python + ": " + std::strerror(saved_errno);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // The plotter's own one-line error (a run without metrics.jsonl, a bad
  // option): its reason, as is.
  const std::string own = "gnnrec.plot: error: ";
  if (code == 1 && err.rfind(own, 0) == 0) return err.substr(own.size());
  if (code == 127) return "cannot run " + python + (err.empty() ? "" : " (" + err + ")");
  std::string why = python + " -m gnnrec.plot exited with status " + std::to_string(code);
  return err.empty() ? why : why + " (" + err + ")";
}

}  // namespace

void plot_curves(const std::string& run_dir, bool quiet) {
  const char* no_plot = std::getenv("GNNREC_NO_PLOT");
  if (no_plot != nullptr && std::string(no_plot) == "1") return;
  if (const auto why = run_plotter({run_dir}, quiet, fs::path(run_dir) / ".plot-stderr.tmp")) {
    std::fprintf(stderr, "gnnrec: warning: could not plot curves: %s\n", why->c_str());
  }
}

void run_plot_command(const std::vector<std::string>& runs, const std::string& out) {
  std::string tmpl = (fs::temp_directory_path() / "gnnrec-plot-XXXXXX").string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    throw std::runtime_error("cannot create a temporary file in " +
                             fs::temp_directory_path().string() + ": " + std::strerror(errno));
  }
  close(fd);
  std::vector<std::string> args = runs;
  args.push_back("--out");
  args.push_back(out);
  if (const auto why = run_plotter(args, /*quiet=*/false, tmpl)) throw std::runtime_error(*why);
}

}  // namespace gnnrec
