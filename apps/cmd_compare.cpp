// `fxic compare`: PSNR between two images of the same size.
#include <cmath>
#include <cstdio>

#include "apps/cli.h"
#include "apps/image_io.h"
#include "apps/metrics.h"

namespace fxic::cli {

int CompareMain(int argc, char** argv) {
  Args args({}, {{"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "compare");
  if (args.Has("-h")) {
    std::fputs(
        "Usage: fxic compare A B\n\n"
        "Prints the PSNR over RGB (peak 255) between two images of equal size.\n"
        "\nExit status: 0 success, 1 error (bad input, I/O), 2 bad command line.\n",
        stdout);
    return kExitOk;
  }
  if (args.positional().size() != 2) return UsageError("expected two images", "compare");
  auto a = ReadImage(args.positional()[0], ReadOptions());
  if (!a.ok()) return Fail(a.status().message());
  auto b = ReadImage(args.positional()[1], ReadOptions());
  if (!b.ok()) return Fail(b.status().message());
  if (a.value().width != b.value().width || a.value().height != b.value().height) {
    return Fail("images differ in size");
  }
  const double psnr = PsnrRgb(a.value(), b.value());
  if (std::isinf(psnr)) {
    std::printf("PSNR inf dB (identical)\n");
  } else {
    std::printf("PSNR %.3f dB\n", psnr);
  }
  return kExitOk;
}

}  // namespace fxic::cli
