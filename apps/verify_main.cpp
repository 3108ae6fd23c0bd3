// fxic for FXIC_MINIMAL_IO builds (cross and wasm): verify, encode, decode and
// info on PPM/PGM, without libpng and without the eval/plot tools.
#include <cstdio>
#include <string>

#include "apps/cli.h"

#ifndef FXIC_VERSION
#define FXIC_VERSION "0.0.0"
#endif

namespace {

constexpr char kHelp[] =
    "fxic " FXIC_VERSION " (minimal build: PPM/PGM only)\n"
    "\n"
    "Usage: fxic COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  verify   prove this build is bit-exact (conformance suite, own manifests)\n"
    "  encode   PPM/PGM image -> .fxic bitstream\n"
    "  decode   .fxic bitstream -> PPM/PGM image\n"
    "  info     describe a model file, a bitstream, or the embedded model\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O, mismatch),\n"
    "             2 bad command line.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace fxic::cli;
  const std::string cmd = argc < 2 ? "" : argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::printf("fxic %s (minimal build)\n", FXIC_VERSION);
    return kExitOk;
  }
  if (cmd == "verify") return VerifyMain(argc - 1, argv + 1);
  if (cmd == "encode") return EncodeMain(argc - 1, argv + 1);
  if (cmd == "decode") return DecodeMain(argc - 1, argv + 1);
  if (cmd == "info") return InfoMain(argc - 1, argv + 1);
  std::fputs(kHelp, stderr);
  return kExitUsage;
}
