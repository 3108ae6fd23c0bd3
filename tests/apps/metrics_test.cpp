// Tests for apps/metrics: PSNR and MS-SSIM against an independent reference.
#include "apps/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "apps/image_io.h"

namespace fxic {
namespace {

Image Load(const std::string& rel) {
  auto im = ReadImage(std::string(FXIC_SOURCE_DIR) + "/tests/data/" + rel,
                      ReadOptions());
  REQUIRE(im.ok());
  return std::move(im).value();
}

Image Crop(const Image& im, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h) {
  Image out;
  out.width = w;
  out.height = h;
  out.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w * 3; ++x) {
      out.rgb[(static_cast<size_t>(y) * w) * 3 + x] =
          im.rgb[(static_cast<size_t>(y0 + y) * im.width + x0) * 3 + x];
    }
  }
  return out;
}

// Reference values from scripts/rd/msssim_ref.py (numpy and torch float64
// implementations of pytorch_msssim's algorithm, which agree to 1e-15), as
// printed by scripts/rd/make_test_pairs.sh. The distorted images are real
// codec outputs: cjpeg -optimize (4:2:0) and cwebp, decoded.
struct RefPair {
  const char* original;
  const char* distorted;
  uint32_t crop[4];  // x, y, w, h; w == 0: whole image
  double psnr, msssim, msssim_db;
};

constexpr RefPair kRefs[] = {
    {"kodim23_crop.png",
     "rd/kodim23_crop_jpeg_q10.png",
     {0, 0, 0, 0},
     27.589386302295,
     0.898062391061803,
     9.916655574957},
    {"kodim23_crop.png",
     "rd/kodim23_crop_jpeg_q30.png",
     {0, 0, 0, 0},
     31.821342177422,
     0.965010276581244,
     14.560594904460},
    // 181×163: odd sides at several scales (the zero-padded pool).
    {"rd/kodim05_crop181x163.png",
     "rd/kodim05_crop181x163_webp_q5.png",
     {0, 0, 0, 0},
     25.277528924992,
     0.948555918275753,
     12.886645805195},
    {"kodim23_crop.png",
     "rd/kodim23_crop_jpeg_q10.png",
     {7, 3, 177, 169},
     27.625252749548,
     0.907324731125098,
     10.330361452961},
};

TEST_CASE("PSNR and MS-SSIM match the independent reference within 1e-6",
          "[metrics]") {
  for (const RefPair& r : kRefs) {
    Image a = Load(r.original), b = Load(r.distorted);
    if (r.crop[2] != 0) {
      a = Crop(a, r.crop[0], r.crop[1], r.crop[2], r.crop[3]);
      b = Crop(b, r.crop[0], r.crop[1], r.crop[2], r.crop[3]);
    }
    INFO(r.distorted << " crop " << r.crop[2] << "x" << r.crop[3]);
    CHECK(std::fabs(PsnrRgb(a, b) - r.psnr) < 1e-6);
    auto m = MsSsimRgb(a, b);
    REQUIRE(m.ok());
    CHECK(std::fabs(m.value() - r.msssim) < 1e-6);
    CHECK(std::fabs(MsSsimDb(m.value()) - r.msssim_db) < 1e-6);
    // Tighter than the requirement: both sides compute in double.
    CHECK(std::fabs(m.value() - r.msssim) < 1e-12);
    // Symmetric in its arguments.
    auto m2 = MsSsimRgb(b, a);
    REQUIRE(m2.ok());
    CHECK(std::fabs(m2.value() - m.value()) < 1e-12);
  }
}

TEST_CASE("MS-SSIM of an image with itself is 1", "[metrics]") {
  const Image a = Load("kodim23_crop.png");
  auto m = MsSsimRgb(a, a);
  REQUIRE(m.ok());
  CHECK(std::fabs(m.value() - 1.0) < 1e-12);
  CHECK(std::isinf(PsnrRgb(a, a)));
  CHECK(std::isinf(MsSsimDb(1.0)));
}

TEST_CASE("MS-SSIM clamps a negative contrast-structure term to 0",
          "[metrics]") {
  // An image against its negative: cs < 0 at the first scale, so the
  // product (and the average over channels) is exactly 0.
  const Image a = Load("kodim23_crop.png");
  Image b = a;
  for (auto& v : b.rgb) v = static_cast<uint8_t>(255 - v);
  auto m = MsSsimRgb(a, b);
  REQUIRE(m.ok());
  CHECK(m.value() == 0.0);
  CHECK(MsSsimDb(0.0) == 0.0);
}

TEST_CASE("MS-SSIM refuses mismatched or too small images", "[metrics]") {
  const Image a = Load("kodim23_crop.png");
  const Image small = Crop(a, 0, 0, kMsSsimMinSide - 1, 200);
  CHECK(!MsSsimRgb(small, small).ok());
  const Image other = Crop(a, 0, 0, 200, 200);
  CHECK(!MsSsimRgb(a, other).ok());
  const Image ok = Crop(a, 0, 0, kMsSsimMinSide, kMsSsimMinSide);
  CHECK(MsSsimRgb(ok, ok).ok());
}

TEST_CASE("MS-SSIM dB", "[metrics]") {
  CHECK(std::fabs(MsSsimDb(0.9) - 10.0) < 1e-12);
  CHECK(std::fabs(MsSsimDb(0.99) - 20.0) < 1e-12);
}

}  // namespace
}  // namespace fxic
