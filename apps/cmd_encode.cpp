// `fxic encode`: image file → .fxic bitstream.
#include <chrono>
#include <cstdio>
#include <new>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "apps/cli.h"
#include "apps/image_io.h"
#include "codec/codec.h"

namespace fxic::cli {
namespace {

constexpr char kHelp[] =
    "Usage: fxic encode INPUT -o OUTPUT [options]\n"
    "\n"
    "Encodes a PNG, PPM or PGM image (INPUT may be - for stdin) into an fxic\n"
    "bitstream (OUTPUT may be - for stdout). Gray and palette images become\n"
    "RGB; 16-bit samples become 8-bit.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   bitstream to write (required)\n"
    "  -q, --quality Q     quality from 1 (smallest) to the model's level count\n"
    "                      (default 4); fractions like 2.5 interpolate levels\n"
    "  -m, --model FILE    model file (default: the embedded model)\n"
    "  -t, --threads N     threads (default: all cores; output never depends on it)\n"
    "  -f, --force         overwrite OUTPUT if it exists\n"
    "      --drop-alpha    encode images with transparency, discarding alpha\n"
    "      --quiet         print nothing on success\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, I/O), 2 bad command line.\n";

}  // namespace

int EncodeMain(int argc, char** argv) {
  Args args({{"-o", "--output"}, {"-q", "--quality"}, {"-m", "--model"},
             {"-t", "--threads"}, {"--band-rows"}},
            {{"-f", "--force"}, {"--drop-alpha"}, {"--quiet"}, {"-h", "--help"}});
  Status st = args.Parse(argc, argv);
  if (!st.ok()) return UsageError(st.message(), "encode");
  if (args.Has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (args.positional().size() != 1) return UsageError("expected one INPUT", "encode");
  if (!args.Has("-o")) return UsageError("missing -o OUTPUT", "encode");
  const std::string in = args.positional()[0], out = args.Get("-o");
  auto q = ParseQuality(args.Get("-q", "4"));
  if (!q.ok()) return UsageError(q.status().message(), "encode");
  auto threads = ParseInt(args.Get("-t", "0"), 0, 1024, "--threads");
  if (!threads.ok()) return UsageError(threads.status().message(), "encode");
  auto band_rows = ParseInt(args.Get("--band-rows", "4"), 1, 65535, "--band-rows");
  if (!band_rows.ok()) return UsageError(band_rows.status().message(), "encode");
  SetThreads(threads.value());
  // An existing OUTPUT is refused before the work, not after it.
  if (Status free = CheckOutputFree(out, args.Has("-f")); !free.ok()) {
    return Fail(free.message());
  }

  // Loading the model and reading the image are independent: with two or
  // more threads they run side by side. Errors are reported in the order of
  // the serial code (model, then quality, then image).
  ReadOptions ro;
  ro.drop_alpha = args.Has("--drop-alpha");
  StatusOr<Model> model = Status::Error("model not loaded");
  StatusOr<Image> image = Status::Error("image not read");
  const std::string model_path = args.Get("-m");
  auto load_model = [&] {
    try {
      model = LoadModelArg(model_path);
    } catch (const std::bad_alloc&) {
      model = Status::Error("not enough memory to load the model");
    }
  };
  auto read_image = [&] {
    try {
      image = ReadImage(in, ro);
    } catch (const std::bad_alloc&) {
      image = Status::Error(in + ": not enough memory for this image");
    }
  };
#ifdef _OPENMP
  const bool overlap = omp_get_max_threads() > 1;
#pragma omp parallel sections num_threads(2) if (overlap)
  {
#pragma omp section
    load_model();
#pragma omp section
    read_image();
  }
#else
  load_model();
  read_image();
#endif
  if (!model.ok()) return Fail(model.status().message());
  auto q8 = QualityToQ8(model.value(), q.value());
  if (!q8.ok()) return UsageError(q8.status().message(), "encode");
  if (!image.ok()) return Fail(image.status().message());

  const auto t0 = std::chrono::steady_clock::now();
  EncodeOptions eo;
  eo.quality_q8 = q8.value();
  eo.band_rows = band_rows.value();
  auto bits = Encode(image.value(), model.value(), eo);
  if (!bits.ok()) return Fail(in + ": " + bits.status().message());
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0).count();
  st = WriteFileAtomic(out, bits.value(), args.Has("-f"));
  if (!st.ok()) return Fail(st.message());
  if (!args.Has("--quiet")) {
    const Image& im = image.value();
    std::fprintf(stderr, "%s: %ux%u -> %zu bytes, %.4f bpp (quality %s, %.0f ms)\n",
                 in.c_str(), im.width, im.height, bits.value().size(),
                 8.0 * static_cast<double>(bits.value().size()) /
                     (static_cast<double>(im.width) * im.height),
                 args.Get("-q", "4").c_str(), ms);
  }
  return kExitOk;
}

}  // namespace fxic::cli
