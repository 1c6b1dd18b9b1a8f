// How the `gnnrec` command's OpenMP threads wait between parallel regions.
//
// libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in its initialiser,
// when libtorch loads it: before main(). Unset, an idle thread spins 300,000
// times at the end of every parallel region before it sleeps. On a machine
// that another job keeps busy, those spins take the core from the thread
// that has work, and each region then waits for a descheduled peer: a
// Gowalla LightGCN epoch took 261 s beside other jobs, 98 s with
// OMP_WAIT_POLICY=PASSIVE (bench/busy_machine.py measures it). Setting the
// variable in main() is too late, and so is a .preinit_array function
// (glibc's own initialiser resets the environment to the one the process
// started with), so the command starts itself again with it set.
#pragma once

namespace gnnrec {

// For a subcommand that computes (train, evaluate, recommend, data, ...),
// when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets
// OMP_WAIT_POLICY=PASSIVE and execs /proc/self/exe with the same arguments
// (about one process start, a fraction of a second). Returns when nothing
// needs to change or the exec fails (the command then runs as it is).
void relaunch_with_passive_wait(int argc, char** argv);

}  // namespace gnnrec
