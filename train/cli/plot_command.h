// The CLI's door to the plotter, python/gnnrec/plot.py: `<python> -m
// gnnrec.plot ...` with <python> $GNNREC_PYTHON, else the interpreter
// configured at build time, and the source python/ folder prepended to
// PYTHONPATH (GNNREC_NO_LIBRARY=1: the plotter needs matplotlib only, not
// libgnnrec.so or torch).
#pragma once

#include <string>
#include <vector>

namespace gnnrec {

// After a successful `gnnrec train`: writes RUN_DIR/curves.png. Skipped with
// GNNREC_NO_PLOT=1. Never fails the run: any problem is one line
// "gnnrec: warning: could not plot curves: ..." on stderr. `quiet` drops the
// plotter's "wrote" line.
void plot_curves(const std::string& run_dir, bool quiet);

// `gnnrec plot RUN [RUN ...] --out FILE`: one run's curves, or several runs
// overlaid (python -m gnnrec.plot's rules). Throws std::runtime_error with
// the plotter's one-line reason when it fails.
void run_plot_command(const std::vector<std::string>& runs, const std::string& out);

}  // namespace gnnrec
