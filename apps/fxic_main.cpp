// fxic: the command line entry point; dispatches to the subcommands.
#include <cstdlib>

#include <unistd.h>

#include "apps/cli.h"

#ifndef FXIC_VERSION
#define FXIC_VERSION "0.0.0"
#endif

namespace {

// Two run-time settings that only the environment can give, read before
// main(), so the commands that run the kernels set them and re-execute
// themselves once (/proc/self/exe, about a millisecond), unless the user set
// them already; if re-execution fails they simply go on with the defaults
// (docs/speed.md, "Threads: the OpenMP wait policy" and "Huge pages"):
//
// - OMP_WAIT_POLICY=PASSIVE: OpenMP threads that are done wait for the
//   others, and for the next parallel region, by sleeping rather than
//   spinning (skipped if OMP_WAIT_POLICY or GOMP_SPINCOUNT is set). libgomp's
//   default spins for a few milliseconds; on a machine whose other cores are
//   busy the spinning thread holds a core that a team member needs, and two
//   threads ran slower than one. libgomp reads it in its library constructor
//   (a setenv() in .preinit_array comes too early: libc's start-up then
//   resets the environment pointer); LLVM's libomp reads it at the first
//   parallel region, so setenv() alone is enough there.
// - GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (skipped if GLIBC_TUNABLES is
//   set): glibc's malloc asks for transparent huge pages, which removes most
//   of the page faults of the ~100 MB of activations and scratch buffers.
void TuneRuntimeEnvironment(char** argv) {
#if defined(__linux__)
  bool reexec = false;
#if defined(_OPENMP)
  if (std::getenv("OMP_WAIT_POLICY") == nullptr &&
      std::getenv("GOMP_SPINCOUNT") == nullptr &&
      setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0) {
#if defined(__GNUC__) && !defined(__clang__)
    reexec = true;
#endif
  }
#endif
#if defined(__GLIBC__)
  if (std::getenv("GLIBC_TUNABLES") == nullptr &&
      setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) == 0) {
    reexec = true;
  }
#endif
  if (reexec) execv("/proc/self/exe", argv);  // returns only on failure
#else
  (void)argv;
#endif
}

constexpr char kHelp[] =
    "fxic " FXIC_VERSION " - a learned image codec in fixed-point integer arithmetic\n"
    "\n"
    "Usage: fxic COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  encode   image (PNG/PPM/PGM) -> .fxic bitstream\n"
    "  decode   .fxic bitstream -> image (identical bytes on every machine)\n"
    "  info     describe a model file, a bitstream, or the embedded model\n"
    "  compare  PSNR between two images\n"
    "  verify   prove this build is bit-exact (conformance suite, own manifests)\n"
    "  eval     rate-distortion curve of fxic or a classical codec on images\n"
    "  plot     draw RD curves (JSON) as SVG or PNG\n"
    "  bdrate   Bjontegaard delta rate / PSNR of RD curves against anchors\n"
    "\n"
    "Run 'fxic COMMAND --help' for a command's options.\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O, mismatch),\n"
    "             2 bad command line.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace fxic::cli;
  return RunSubcommand(argc, argv, kHelp, "fxic " FXIC_VERSION,
                       {{"encode", EncodeMain, true},
                        {"decode", DecodeMain, true},
                        {"info", InfoMain, false},
                        {"compare", CompareMain, false},
                        {"verify", VerifyMain, true},
                        {"eval", EvalMain, true},
                        {"plot", PlotMain, false},
                        {"bdrate", BdrateMain, false}},
                       TuneRuntimeEnvironment);
}
