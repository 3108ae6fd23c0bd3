// `fxic decode`: .fxic bitstream → PNG / PPM image.
#include <chrono>
#include <cstdio>
#include <string>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "codec/codec.h"

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic decode INPUT -o OUTPUT [options]\n"
    "\n"
    "Decodes an fxic bitstream (INPUT may be - for stdin) into an image.\n"
    "The output format follows OUTPUT's extension (.png, .ppm/.pnm, .pgm);\n"
    "- writes PNG to stdout. The result is identical on every machine.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   image to write (required)\n"
    "  -m, --model FILE    model file (default: the embedded model); must be\n"
    "                      the model that wrote the bitstream\n"
    "  -t, --threads N     threads (default: all cores; output never depends on it)\n"
    "  -f, --force         overwrite OUTPUT if it exists\n"
    "      --quiet         print nothing on success\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O), 2 bad command line.\n";

}  // namespace

int DecodeMain(int argc, char** argv) {
  Args args({{"-o", "--output"}, {"-m", "--model"}, {"-t", "--threads"}},
            {{"-f", "--force"}, {"--quiet"}, {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "decode");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (args.positional().size() != 1) return UsageError("expected one INPUT", "decode");
  if (!args.Has("-o")) return UsageError("missing -o OUTPUT", "decode");
  const std::string in = args.positional()[0], out = args.Get("-o");
  auto threads = ParseInt(args.Get("-t", "0"), 0, 1024, "--threads");
  if (!threads.ok()) return UsageError(threads.status().message(), "decode");
  SetThreads(threads.value());
  auto format = ImageFormatFromPath(out);
  if (!format.ok()) return UsageError(format.status().message(), "decode");
  // An existing OUTPUT is refused before the work, not after it.
  st = CheckOutputFree(out, args.Has("-f"));
  if (!st.ok()) return Fail(st.message());

  auto model = LoadModelArg(args.Get("-m"));
  if (!model.ok()) return Fail(model.status().message());
  auto bytes = ReadFileBytes(in);
  if (!bytes.ok()) return Fail(bytes.status().message());
  const auto t0 = std::chrono::steady_clock::now();
  auto image = Decode(bytes.value().data(), bytes.value().size(), model.value());
  if (!image.ok()) return Fail(in + ": " + image.status().message());
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0).count();
  WriteOptions wo;
  wo.overwrite = args.Has("-f");
  st = WriteImage(image.value(), out, wo);
  if (!st.ok()) return Fail(st.message());
  if (!args.Has("--quiet")) {
    std::fprintf(stderr, "%s: %ux%u decoded (%.0f ms)\n", in.c_str(),
                 image.value().width, image.value().height, ms);
  }
  return kExitOk;
}

}  // namespace fxic::cli
