// The PNG writer of EncodeImageBytes (without libpng) must give exactly the
// bytes libpng writes with the same settings (Paeth on every row, zlib level
// 1, Z_RLE): every size class where libpng changes something (streams of at
// most 16384 bytes get a smaller zlib window and header; IDAT chunks of 8192
// bytes; row strips of the direct writer), on noise, smooth, flat and mixed
// contents. memcmp of the whole files.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

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
  };
  // 1x1 .. tiny (smallest windows), around the 16384-byte stream limit
  // (73x74: 16280 bytes, 74x74: 16502), one or several IDAT chunks, several
  // row strips (1 MiB each) and extreme aspect ratios.
  const Size sizes[] = {{1, 1},   {2, 1},    {1, 2},    {3, 3},    {5, 7},   {16, 16},
                        {31, 17}, {64, 64},  {70, 70},  {73, 74},  {74, 74}, {100, 60},
                        {200, 150}, {768, 512}, {1, 3000}, {4000, 1}, {1500, 800}};
  int checked = 0;
  for (const Size& sz : sizes) {
    for (int kind = 0; kind < 4; ++kind) {
      if (uint64_t{sz.w} * sz.h > 300000 && kind == 2) continue;  // keep it quick
      const Image img = MakeImage(sz.w, sz.h, kind, sz.w * 131 + sz.h * 7 + kind);
      INFO("size " << sz.w << "x" << sz.h << " kind " << kind);
      auto ref = internal::EncodePngWithLibpng(img);
      auto got = internal::EncodePngWithoutLibpng(img);
      REQUIRE(ref.ok());
      REQUIRE(got.ok());
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
      // And it decodes back to the pixels.
      auto back = DecodeImageBytes(got.value(), ReadOptions());
      REQUIRE(back.ok());
      CHECK(back.value().rgb == img.rgb);
      ++checked;
    }
  }
  CHECK(checked > 50);
  // EncodeImageBytes uses it.
  const Image img = MakeImage(33, 21, 3, 5);
  auto via_api = EncodeImageBytes(img, ImageFormat::kPng);
  REQUIRE(via_api.ok());
  CHECK(via_api.value() == internal::EncodePngWithLibpng(img).value());
}

}  // namespace
}  // namespace fxic
