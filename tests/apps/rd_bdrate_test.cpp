// Tests for apps/rd_bdrate: PCHIP and Bjøntegaard deltas, including the
// reproduction of published BD-rates.
#include "apps/rd_bdrate.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

namespace fxic::rd {
namespace {

using V = std::vector<double>;

// Kodak curves, copied from ../shared/anchors: classical/kodak_avg.csv
// (bpp, psnr) and compressai/*.json (bpp, psnr-rgb).
const V kJpeg420Bpp = {0.09558, 0.14216, 0.25783, 0.45045,
                       0.68295, 0.92994, 1.34434, 1.83557};
const V kJpeg420Psnr = {21.37333, 23.82344, 26.66426, 29.14448,
                        31.01295, 32.51536, 34.52212, 36.46155};
const V kWebpM6Bpp = {0.10257, 0.21742, 0.37749, 0.57722,
                      0.76866, 0.93904, 1.44755, 1.92966};
const V kWebpM6Psnr = {25.67485, 28.10857, 30.19356, 32.20193,
                       33.73245, 34.87203, 37.60611, 39.44627};
const V kJ2kBpp = {0.09972, 0.19908, 0.29942, 0.49861,
                   0.74902, 0.99911, 1.49832, 1.99747};
const V kJ2kPsnr = {26.39304, 28.47846, 29.96383, 32.17960,
                    34.31018, 35.99521, 38.66385, 40.79659};
const V kHyperBpp = {0.13129340277777776, 0.20889282226562503,
                     0.3198581271701389,  0.47835625542534727,
                     0.6686842176649304,  0.9388258192274304,
                     1.2591722276475694,  1.6602240668402775};
const V kHyperPsnr = {27.58153679333392,  29.19669412138477, 30.972168705499175,
                      32.838191117040694, 34.5262427611008,  36.74336461762285,
                      38.58385584443213,  40.55687370015212};
const V kMeanBpp = {0.12392171223958336, 0.19798109266493058,
                    0.3072441948784722,  0.46061197916666674,
                    0.6616651746961806,  0.9144049750434027,
                    1.2342088487413194,  1.619089762369792};
const V kMeanPsnr = {27.699472968534337, 29.358805876639696, 31.128916719551516,
                     32.95067527714903,  34.96831704422008,  36.91109403854906,
                     38.83750942961362,  40.63331397919807};

TEST_CASE("BD-rate reproduces the published Kodak table within 0.1 pp",
          "[bdrate]") {
  // ../shared/anchors/classical/README.md: BD-rate on PSNR, PCHIP, overlap.
  struct Case {
    const V *ar, *ad, *tr, *td;
    double published;
  };
  const Case cases[] = {
      {&kJpeg420Bpp, &kJpeg420Psnr, &kHyperBpp, &kHyperPsnr, -52.6},
      {&kJpeg420Bpp, &kJpeg420Psnr, &kMeanBpp, &kMeanPsnr, -56.1},
      {&kWebpM6Bpp, &kWebpM6Psnr, &kHyperBpp, &kHyperPsnr, -26.8},
      {&kWebpM6Bpp, &kWebpM6Psnr, &kMeanBpp, &kMeanPsnr, -32.0},
      {&kJpeg420Bpp, &kJpeg420Psnr, &kWebpM6Bpp, &kWebpM6Psnr, -36.9},
      {&kJpeg420Bpp, &kJpeg420Psnr, &kJ2kBpp, &kJ2kPsnr, -45.6},
      {&kHyperBpp, &kHyperPsnr, &kMeanBpp, &kMeanPsnr, -6.8},
      {&kHyperBpp, &kHyperPsnr, &kWebpM6Bpp, &kWebpM6Psnr, +36.6},
      {&kHyperBpp, &kHyperPsnr, &kJ2kBpp, &kJ2kPsnr, +18.0},
  };
  for (const Case& c : cases) {
    for (BdIntegration how :
         {BdIntegration::kExact, BdIntegration::kTrapezoid100}) {
      auto bd = BdRate(*c.ar, *c.ad, *c.tr, *c.td, how);
      REQUIRE(bd.ok());
      INFO("published " << c.published << " got " << bd.value());
      CHECK(std::fabs(bd.value() - c.published) <= 0.1);
    }
  }
}

TEST_CASE("BD-rate and BD-PSNR of exactly shifted curves", "[bdrate]") {
  V half, plus1;
  for (double r : kHyperBpp) half.push_back(r / 2);
  for (double d : kHyperPsnr) plus1.push_back(d + 1.0);
  auto rate = BdRate(kHyperBpp, kHyperPsnr, half, kHyperPsnr);
  REQUIRE(rate.ok());
  CHECK(rate.value() == Approx(-50.0).margin(1e-9));
  auto psnr = BdMetric(kHyperBpp, kHyperPsnr, kHyperBpp, plus1);
  REQUIRE(psnr.ok());
  CHECK(psnr.value() == Approx(1.0).margin(1e-12));
  auto same = BdRate(kJpeg420Bpp, kJpeg420Psnr, kJpeg420Bpp, kJpeg420Psnr);
  REQUIRE(same.ok());
  CHECK(std::fabs(same.value()) < 1e-12);
  // Antisymmetry in log domain: (1 + a/100)(1 + b/100) = 1 when the two
  // curves cover the same range.
  auto ab = BdRate(kHyperBpp, kHyperPsnr, half, kHyperPsnr);
  auto ba = BdRate(half, kHyperPsnr, kHyperBpp, kHyperPsnr);
  CHECK((1 + ab.value() / 100) * (1 + ba.value() / 100) ==
        Approx(1.0).margin(1e-12));
}

TEST_CASE("BD deltas do not depend on point order", "[bdrate]") {
  V r = kWebpM6Bpp, d = kWebpM6Psnr;
  std::reverse(r.begin(), r.end());
  std::reverse(d.begin(), d.end());
  auto a = BdRate(kJpeg420Bpp, kJpeg420Psnr, kWebpM6Bpp, kWebpM6Psnr);
  auto b = BdRate(kJpeg420Bpp, kJpeg420Psnr, r, d);
  CHECK(a.value() == b.value());
}

TEST_CASE("BD-rate errors", "[bdrate]") {
  CHECK(!BdRate({1.0}, {30.0}, kHyperBpp, kHyperPsnr).ok());  // one point
  CHECK(!BdRate({0.5, 0.0}, {30, 31}, kHyperBpp, kHyperPsnr).ok());  // rate 0
  CHECK(!BdRate({0.5, 0.6}, {30, 30}, kHyperBpp, kHyperPsnr)
             .ok());  // equal metric
  CHECK(
      !BdRate({0.5, 0.6}, {50, 51}, kHyperBpp, kHyperPsnr).ok());  // no overlap
  CHECK(!BdRate({0.5, 0.6}, {30, NAN}, kHyperBpp, kHyperPsnr).ok());  // NaN
}

TEST_CASE("PCHIP matches scipy's PchipInterpolator", "[bdrate]") {
  // Shape properties; the slopes themselves are checked in the next case.
  auto p = Pchip::Make({0, 1, 2, 4}, {0, 1, 4, 5});
  REQUIRE(p.ok());
  // Interpolates the knots.
  CHECK(p.value().Eval(0) == Approx(0));
  CHECK(p.value().Eval(1) == Approx(1));
  CHECK(p.value().Eval(2) == Approx(4));
  CHECK(p.value().Eval(4) == Approx(5));
  // Monotone between knots.
  double prev = -1;
  for (int i = 0; i <= 400; ++i) {
    const double v = p.value().Eval(i / 100.0);
    CHECK(v >= prev);
    prev = v;
  }
  // Exact integral equals a fine numerical one, also over partial pieces.
  auto simpson = [&](double a, double b) {
    const int n = 2000;
    const double h = (b - a) / n;
    double s = p.value().Eval(a) + p.value().Eval(b);
    for (int i = 1; i < n; ++i)
      s += (i % 2 ? 4 : 2) * p.value().Eval(a + i * h);
    return s * h / 3;
  };
  CHECK(p.value().Integral(0, 4) == Approx(simpson(0, 4)).epsilon(1e-12));
  // Simpson straddles the knots here (second derivative jumps): looser.
  CHECK(p.value().Integral(0.3, 2.7) ==
        Approx(simpson(0.3, 2.7)).epsilon(1e-9));
  // A cubic-free case: collinear points give the line itself.
  auto line = Pchip::Make({1, 2, 3, 5}, {2, 4, 6, 10});
  REQUIRE(line.ok());
  CHECK(line.value().Eval(4.5) == Approx(9.0));
  CHECK(line.value().Integral(1, 5) == Approx(24.0));
  // Two points: linear.
  auto two = Pchip::Make({0, 2}, {1, 5});
  REQUIRE(two.ok());
  CHECK(two.value().Eval(0.5) == Approx(2.0));
  CHECK(!Pchip::Make({0, 0}, {1, 2}).ok());
}

TEST_CASE("PCHIP slopes follow Fritsch-Carlson with scipy's end conditions",
          "[bdrate]") {
  // Hand-computed: x = [0,1,2,4], y = [0,1,4,5]; h = [1,1,2], m = [1,3,0.5].
  // Interior k=1: w1 = 2·1+1 = 3, w2 = 1+2·1 = 3, d = 6 / (3/1 + 3/3) = 1.5.
  // Interior k=2: w1 = 2·2+1 = 5, w2 = 2+2·1 = 4, d = 9 / (5/3 + 4/0.5) =
  // 0.931034... Edge 0: ((2+1)·1 − 1·3)/2 = 0 -> sign differs from m0 -> 0.
  // Edge 3: ((2·2+1)·0.5 − 2·3)/3 = −1.1667 -> sign differs -> 0.
  auto p = Pchip::Make({0, 1, 2, 4}, {0, 1, 4, 5});
  REQUIRE(p.ok());
  const double eps = 1e-6;
  auto slope = [&](double x) {
    return (p.value().Eval(x + eps) - p.value().Eval(x - eps)) / (2 * eps);
  };
  // Central differences straddle a jump of the second derivative: 1e-5.
  CHECK(slope(1) == Approx(1.5).margin(1e-5));
  CHECK(slope(2) == Approx(9.0 / (5.0 / 3.0 + 8.0)).margin(1e-5));
  CHECK((p.value().Eval(1e-6) - p.value().Eval(0)) / 1e-6 ==
        Approx(0).margin(1e-5));
}

}  // namespace
}  // namespace fxic::rd
