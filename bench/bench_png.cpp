// fxic_bench_png: time and size of PNG writing with libpng at several zlib
// levels, strategies and PNG row filters, on images given on the command line
// (PNG, PPM or PGM; typically decoded fxic outputs). It measured the settings
// apps/image_io.cpp uses (docs/speed.md, "Writing PNG").
//
// Usage: fxic_bench_png [--reps N] IMAGE...
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/image_io.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Setting {
  const char* name;
  int level;
  int strategy;
  int filters;  // PNG_FILTER_* mask; 0: libpng's default choice
};

const Setting kSettings[] = {
    {"level 6 (zlib default), adaptive filters (libpng default)", 6, -1, 0},
    {"level 1, adaptive filters", 1, -1, 0},
    {"level 1, filter none", 1, -1, PNG_FILTER_NONE},
    {"level 1, filter sub", 1, -1, PNG_FILTER_SUB},
    {"level 1, filter up", 1, -1, PNG_FILTER_UP},
    {"level 1, filter paeth", 1, -1, PNG_FILTER_PAETH},
    {"level 2, filter sub", 2, -1, PNG_FILTER_SUB},
    {"level 2, filter paeth", 2, -1, PNG_FILTER_PAETH},
    {"level 3, filter sub", 3, -1, PNG_FILTER_SUB},
    {"level 3, filter paeth", 3, -1, PNG_FILTER_PAETH},
    {"level 6, filter paeth", 6, -1, PNG_FILTER_PAETH},
    {"Z_RLE, filter sub", 1, Z_RLE, PNG_FILTER_SUB},
    {"Z_RLE, filter up", 1, Z_RLE, PNG_FILTER_UP},
    {"Z_RLE, filter paeth", 1, Z_RLE, PNG_FILTER_PAETH},
    {"Z_RLE, adaptive filters", 1, Z_RLE, 0},
    {"Z_RLE, filter avg", 1, Z_RLE, PNG_FILTER_AVG},
    {"Z_HUFFMAN_ONLY, filter none", 1, Z_HUFFMAN_ONLY, PNG_FILTER_NONE},
    {"Z_HUFFMAN_ONLY, filter sub", 1, Z_HUFFMAN_ONLY, PNG_FILTER_SUB},
    {"Z_HUFFMAN_ONLY, filter up", 1, Z_HUFFMAN_ONLY, PNG_FILTER_UP},
    {"Z_HUFFMAN_ONLY, filter avg", 1, Z_HUFFMAN_ONLY, PNG_FILTER_AVG},
    {"Z_HUFFMAN_ONLY, filter paeth", 1, Z_HUFFMAN_ONLY, PNG_FILTER_PAETH},
    {"Z_HUFFMAN_ONLY, adaptive filters", 1, Z_HUFFMAN_ONLY, 0},
};

void Append(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void Flush(png_structp) {}

// Returns the PNG size, or 0 on a libpng error.
size_t Write(const fxic::Image& im, const Setting& s, std::vector<uint8_t>* out) {
  out->clear();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return 0;
  }
  png_set_write_fn(png, out, Append, Flush);
  png_set_IHDR(png, info, im.width, im.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, s.level);
  if (s.strategy >= 0) png_set_compression_strategy(png, s.strategy);
  if (s.filters != 0) png_set_filter(png, PNG_FILTER_TYPE_BASE, s.filters);
  png_write_info(png, info);
  const size_t stride = size_t{im.width} * 3;
  for (uint32_t y = 0; y < im.height; ++y) {
    png_write_row(png, const_cast<png_bytep>(im.rgb.data() + y * stride));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out->size();
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  std::vector<fxic::Image> images;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
      continue;
    }
    if (a == "-h" || a == "--help" || a[0] == '-') {
      std::fprintf(stderr, "usage: fxic_bench_png [--reps N] IMAGE...\n");
      return a[0] == '-' && a != "-h" && a != "--help" ? 2 : 0;
    }
    auto im = fxic::ReadImage(a, fxic::ReadOptions());
    if (!im.ok()) {
      std::fprintf(stderr, "%s\n", im.status().message().c_str());
      return 1;
    }
    images.push_back(std::move(im.value()));
  }
  if (images.empty()) {
    std::fprintf(stderr, "usage: fxic_bench_png [--reps N] IMAGE...\n");
    return 2;
  }
  double base_ms = 0, base_bytes = 0;
  std::printf("# %zu image(s), best of %d runs each; times and sizes summed over the images\n\n",
              images.size(), reps);
  std::printf("| settings | ms | x time of default | bytes | x size of default |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  std::vector<uint8_t> out;
  for (size_t k = 0; k < sizeof(kSettings) / sizeof(kSettings[0]); ++k) {
    const Setting& s = kSettings[k];
    double ms = 0, bytes = 0;
    for (const fxic::Image& im : images) {
      double best = 1e30;
      size_t n = 0;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        n = Write(im, s, &out);
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      if (n == 0) {
        std::fprintf(stderr, "libpng failed on setting '%s'\n", s.name);
        return 1;
      }
      ms += best;
      bytes += static_cast<double>(n);
    }
    if (k == 0) {
      base_ms = ms;
      base_bytes = bytes;
    }
    std::printf("| %s | %.1f | %.2f | %.0f | %.3f |\n", s.name, ms, ms / base_ms, bytes,
                bytes / base_bytes);
  }
  return 0;
}
