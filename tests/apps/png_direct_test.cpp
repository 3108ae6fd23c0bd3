// The PNG writer of EncodeImageBytes (without libpng) must give exactly the
// bytes libpng writes with the same settings (Paeth on every row, zlib level
// 1, Z_RLE) for images of one deflate segment: every size class where libpng
// changes something (streams of at most 16384 bytes get a smaller zlib window
// and header; IDAT chunks of 8192 bytes), on noise, smooth, flat and mixed
// contents; memcmp of the whole files. Larger images are deflated in
// segments over threads: they must decode (with libpng) to their pixels,
// give the same bytes at every thread count, and stay within 1% (plus a
// few bytes per segment boundary) of libpng's size.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "apps/image_io.h"

namespace fxic {
namespace {

Image MakeImage(uint32_t w, uint32_t h, int kind, uint64_t seed) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t{w} * h * 3);
  uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
  auto next = [&s]() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      uint8_t* p = &img.rgb[(size_t{y} * w + x) * 3];
      for (int c = 0; c < 3; ++c) {
        uint8_t v = 0;
        switch (kind) {
          case 0: v = static_cast<uint8_t>(next()); break;                // noise
          case 1: v = static_cast<uint8_t>(x * (c + 1) + y * 3); break;   // smooth
          case 2: v = static_cast<uint8_t>(77 + c); break;                // flat
          default:  // blocks of flat colour with noisy edges
            v = static_cast<uint8_t>(((x / 13) * 40 + (y / 7) * 90 + c * 50) +
                                     ((x % 13 == 0) ? next() % 9 : 0));
        }
        p[c] = v;
      }
    }
  }
  return img;
}

TEST_CASE("PNG writer without libpng gives libpng's bytes", "[image_io][png_direct]") {
  struct Size {
    uint32_t w, h;
    bool segmented;
  };
  // 1x1 .. tiny (smallest windows), around the 16384-byte stream limit
  // (73x74: 16280 bytes, 74x74: 16502), one or several IDAT chunks, extreme
  // aspect ratios (one row or column: never segmented), and around the
  // segment size (768 wide: 56 rows of 2305 bytes per segment), up to more
  // segments than the writer holds at once (16).
  const Size sizes[] = {{1, 1, false},      {2, 1, false},      {1, 2, false},
                        {3, 3, false},      {5, 7, false},      {16, 16, false},
                        {31, 17, false},    {64, 64, false},    {70, 70, false},
                        {73, 74, false},    {74, 74, false},    {100, 60, false},
                        {200, 150, false},  {768, 56, false},   {1, 3000, false},
                        {4000, 1, false},   {768, 57, true},    {768, 512, true},
                        {1500, 800, true},  {2000, 1000, true}, {9000, 7, true}};
  int checked = 0, segmented = 0;
  for (const Size& sz : sizes) {
    for (int kind = 0; kind < 4; ++kind) {
      if (uint64_t{sz.w} * sz.h > 300000 && kind == 2) continue;  // keep it quick
      const Image img = MakeImage(sz.w, sz.h, kind, sz.w * 131 + sz.h * 7 + kind);
      INFO("size " << sz.w << "x" << sz.h << " kind " << kind);
      auto ref = internal::EncodePngWithLibpng(img);
      auto got = internal::EncodePngWithoutLibpng(img);
      REQUIRE(ref.ok());
      REQUIRE(got.ok());
      // And it decodes back to the pixels.
      auto back = DecodeImageBytes(got.value(), ReadOptions());
      REQUIRE(back.ok());
      CHECK(back.value().rgb == img.rgb);
      ++checked;
      if (sz.segmented) {
        CHECK(got.value() != ref.value());  // really the segmented writer
        // Each segment boundary costs a sync flush and a new block header.
        const uint64_t rows_per_segment = std::max<uint64_t>(1, 131072 / (3 * uint64_t{sz.w} + 1));
        const uint64_t segments = (sz.h + rows_per_segment - 1) / rows_per_segment;
        CHECK(got.value().size() <= ref.value().size() + ref.value().size() / 100 + 32 * segments);
#ifdef _OPENMP
        const int saved = omp_get_max_threads();
        for (int threads : {1, 2, 3}) {
          INFO("threads " << threads);
          omp_set_num_threads(threads);
          auto again = internal::EncodePngWithoutLibpng(img);
          REQUIRE(again.ok());
          CHECK(again.value() == got.value());
        }
        omp_set_num_threads(saved);
#endif
        ++segmented;
        continue;
      }
      CHECK(got.value().size() == ref.value().size());
      const bool same = got.value() == ref.value();
      if (!same) {
        size_t i = 0;
        while (i < got.value().size() && i < ref.value().size() &&
               got.value()[i] == ref.value()[i]) {
          ++i;
        }
        FAIL_CHECK("first differing byte at " << i);
      }
      CHECK(same);
    }
  }
  CHECK(checked > 50);
  CHECK(segmented >= 16);
  // EncodeImageBytes uses it.
  const Image img = MakeImage(33, 21, 3, 5);
  auto via_api = EncodeImageBytes(img, ImageFormat::kPng);
  REQUIRE(via_api.ok());
  CHECK(via_api.value() == internal::EncodePngWithLibpng(img).value());
}

}  // namespace
}  // namespace fxic
