// fxic for FXIC_MINIMAL_IO builds (cross and wasm): verify, encode, decode and
// info on PPM/PGM, without libpng and without the eval/plot tools.
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
  return RunSubcommand(argc, argv, kHelp, "fxic " FXIC_VERSION " (minimal build)",
                       {{"verify", VerifyMain, true},
                        {"encode", EncodeMain, true},
                        {"decode", DecodeMain, true},
                        {"info", InfoMain, false}},
                       nullptr);
}
