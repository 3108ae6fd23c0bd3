// Tests for the integer GDN / IGDN and the normalizer's 1/sqrt, sqrt.
#include "fixedpoint/normalization.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "fixedpoint/bounds.h"
#include "fixedpoint/rounding.h"
#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

using testing::RandomTensor;
using testing::RandomVector;
using testing::SplitMix64;

// floor(sqrt(v)) for v < 2^96, by bisection with exact 128-bit products.
uint64_t ISqrt128(unsigned __int128 v) {
  uint64_t lo = 0, hi = uint64_t{1} << 48;  // lo^2 <= v < hi^2
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if ((unsigned __int128)mid * mid <= v) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

using Norm = testing::NormLayerData;

Tensor16 Run(const Tensor16& in, const Norm& n, bool inverse) {
  Tensor16 out;
  const Status st =
      inverse ? Igdn(in, n.Params(), &out) : Gdn(in, n.Params(), &out);
  REQUIRE(st.ok());
  return out;
}

// One channel, gamma = 0: norm = beta, y = x / sqrt(beta) (GDN) or
// x * sqrt(beta) (IGDN), times M0 * 2^(15 - n) = 1 for M0 = 1, n = 15.
int16_t Single(int16_t x, int32_t norm, bool inverse) {
  Norm n;
  n.gamma = {0};
  n.beta = {norm};
  n.mult = {1};
  n.shift = {15};
  Tensor16 in(1, 1, 1);
  in.data = {x};
  return Run(in, n, inverse).data[0];
}

TEST_CASE("RsqrtQ30: range reduction, hand-computed", "[normalization]") {
  // norm = 1: k = 0, mq = 2^28, r0 = 32641, h = 32641^2 = 1065434881,
  // r = RSR(32641 * (3 * 2^30 - 1065434881), 16) = RSR(70367393660831, 16)
  //   = 1073717662 (1/sqrt(1) = 2^30 less the 2.25e-5 Newton error).
  Rsqrt rs = RsqrtQ30(1);
  CHECK(rs.k == 0);
  CHECK(rs.mq == (1 << 28));
  CHECK(rs.r == 1073717662);
  CHECK(SqrtQ30(rs) == 1073717662);
  // Powers of 4 share m = 1.
  for (int k = 0; k <= 15; ++k) {
    rs = RsqrtQ30(int32_t{1} << (2 * k));
    CHECK(rs.k == k);
    CHECK(rs.mq == (1 << 28));
    CHECK(rs.r == 1073717662);
  }
  const struct {
    int32_t norm;
    int k;
    int32_t mq;
  } cases[] = {{2, 0, 1 << 29},
               {3, 0, 3 << 28},
               {5, 1, 5 << 26},
               {1 << 28, 14, 1 << 28},
               {(1 << 30) - 1, 14, (1 << 30) - 1},
               {1 << 30, 15, 1 << 28},
               {(1 << 30) + 3, 15, 1 << 28},  // >> 2 truncates
               {(1 << 30) + 4, 15, (1 << 28) + 1},
               {0x7fffffff, 15, (1 << 29) - 1}};
  for (const auto& c : cases) {
    INFO("norm = " << c.norm);
    rs = RsqrtQ30(c.norm);
    CHECK(rs.k == c.k);
    CHECK(rs.mq == c.mq);
  }
}

TEST_CASE(
    "RsqrtQ30 is within 2^-15 of the exact 1/sqrt(m), never above by "
    "more than 1",
    "[normalization]") {
  std::vector<int32_t> norms;
  for (int32_t n = 1; n <= (1 << 16); ++n) norms.push_back(n);
  for (int b = 1; b <= 31; ++b) {
    const int64_t p = int64_t{1} << b;
    for (int64_t d = -3; d <= 3; ++d) {
      if (p + d >= 1 && p + d <= 0x7fffffff) norms.push_back(int32_t(p + d));
    }
  }
  // The edges of every table bucket at a few exponents.
  for (int t = 0; t <= 192; ++t) {
    for (int k : {14, 15}) {
      const int64_t base = int64_t(t + 64) << (22 + 2 * k - 28);
      for (int64_t d = -1; d <= 1; ++d) {
        if (base + d >= 1 && base + d <= 0x7fffffff) {
          norms.push_back(int32_t(base + d));
        }
      }
    }
  }
  SplitMix64 rng(99);
  for (int i = 0; i < 200000; ++i) {
    const int bits = int(rng.Uniform(0, 30));
    norms.push_back(int32_t(
        rng.Uniform(int64_t{1} << bits,
                    std::min<int64_t>((int64_t{2} << bits) - 1, 0x7fffffff))));
  }
  for (int32_t norm : norms) {
    const Rsqrt rs = RsqrtQ30(norm);
    // norm = m * 4^k with m = mq / 2^28 in [1, 4).
    REQUIRE(rs.mq >= (1 << 28));
    REQUIRE(rs.mq < (1 << 30));
    if (rs.k <= 14) {
      REQUIRE(int64_t{rs.mq} == int64_t{norm} << (28 - 2 * rs.k));
    } else {
      REQUIRE(rs.mq == (norm >> 2));
    }
    // exact = floor(2^30 / sqrt(mq / 2^28)) = floor(sqrt(2^88 / mq)).
    const unsigned __int128 num = (unsigned __int128)1 << 88;
    const int64_t exact = int64_t(ISqrt128(num / uint64_t(rs.mq)));
    INFO("norm = " << norm << ", r = " << rs.r << ", exact = " << exact);
    REQUIRE(rs.r <= exact + 1);
    REQUIRE((exact - rs.r) * 32768 <= exact);  // relative error <= 2^-15
    REQUIRE(rs.r <= (1 << 30));
    // sqrt(m) in Q30: exact floor(sqrt(mq * 2^32)).
    const int64_t s = SqrtQ30(rs);
    const int64_t exact_s =
        int64_t(ISqrt128((unsigned __int128)uint64_t(rs.mq) << 32));
    // s = RSR(mq * r, 28) inherits r's error scaled by m < 4: r's +1 can add
    // up to 4 units (measured over every mq: at most +3).
    REQUIRE(s <= exact_s + 4);
    REQUIRE((exact_s - s) * 32768 <= exact_s);
    REQUIRE(s < (int64_t{1} << 31));
    // The independent formula in the test helpers agrees.
    const testing::RefRsqrt ref = testing::RefRsqrtOf(norm);
    REQUIRE(ref.k == rs.k);
    REQUIRE(ref.mq == rs.mq);
    REQUIRE(ref.r == rs.r);
    REQUIRE(ref.s == s);
  }
}

TEST_CASE("GDN / IGDN, hand-computed", "[normalization]") {
  // M0 = 1, n = 15: y = x / sqrt(norm) and x * sqrt(norm).
  CHECK(Single(1000, 1, false) == 1000);
  CHECK(Single(1000, 4, false) == 500);
  CHECK(Single(1000, 16, false) == 250);
  CHECK(Single(1000, 2, false) == 707);  // 707.1
  CHECK(Single(-1000, 2, false) == -707);
  CHECK(Single(1000, 3, false) == 577);       // 577.35
  CHECK(Single(32767, 1 << 30, false) == 1);  // 32767 / 32768 -> 1
  CHECK(Single(16384, 1 << 30, false) == 0);  // exactly 0.5 less 2e-5 -> 0
  CHECK(Single(-16385, 1 << 30, false) == -1);
  CHECK(Single(0, 12345, false) == 0);
  CHECK(Single(100, 16, true) == 400);
  CHECK(Single(100, 2, true) == 141);          // 141.42
  CHECK(Single(-3, 9, true) == -9);            // -8.9998 -> -9
  CHECK(Single(100, 1 << 30, true) == 32767);  // 3276800 clamps
  CHECK(Single(-100, 1 << 30, true) == -32767);
  CHECK(Single(1, 0x7fffffff, true) == 32767);  // sqrt(2^31) = 46341 clamps
  CHECK(Single(1, 1 << 20, true) == 1024);
  CHECK(Single(0, 0x7fffffff, true) == 0);

  // Two channels sharing one normalizer: sq_shift 0, gamma all 1, beta 1:
  // norm = 1 + 9 + 16 = 26; M0 = 1, n = 5: y = x * 1024 / sqrt(26).
  Norm n;
  n.c = 2;
  n.gamma = {1, 1, 1, 1};
  n.beta = {1, 1};
  n.mult = {1, 1};
  n.shift = {5, 5};
  Tensor16 in(1, 1, 2);
  in.data = {3, 4};
  CHECK(Run(in, n, false).data ==
        std::vector<int16_t>{602, 803});  // 602.47, 803.29
  // IGDN with n = 15: y = x * sqrt(26) = 15.30 -> 15, 20.40 -> 20.
  n.shift = {15, 15};
  CHECK(Run(in, n, true).data == std::vector<int16_t>{15, 20});
  // Per-channel normalizers: gamma = identity, beta 1: norm = (10, 17),
  // y = 3 * 1024 / sqrt(10) = 971.4, 4 * 1024 / sqrt(17) = 993.4 (n = 5).
  n.gamma = {1, 0, 0, 1};
  n.shift = {5, 5};
  CHECK(Run(in, n, false).data == std::vector<int16_t>{971, 993});
  // sq_shift rounds half up: x = 3, sq_shift 1: sq = RSR(9, 1) = 5 (4.5),
  // beta 4 -> norm 9, y = 3 * 1024 / 3 = 1024 (1023.98).
  Norm r;
  r.sq_shift = 1;
  r.gamma = {1};
  r.beta = {4};
  r.mult = {1};
  r.shift = {5};
  Tensor16 x3(1, 1, 1);
  x3.data = {3};
  CHECK(Run(x3, r, false).data[0] == 1024);
  // Output clamp and M0: lo = -10, hi = 600 on the 602 above.
  n.gamma = {1, 1, 1, 1};
  n.lo = -10;
  n.hi = 600;
  CHECK(Run(in, n, false).data == std::vector<int16_t>{600, 600});
  // M0 = (3, 1), n = 10: y = x * M0 * 32 / sqrt(26) = 56.48, 25.10.
  n.mult = {3, 1};
  n.shift = {10, 10};
  n.hi = 32767;
  CHECK(Run(in, n, false).data == std::vector<int16_t>{56, 25});
}

TEST_CASE("GDN / IGDN match the int64 naive reference on random inputs",
          "[normalization]") {
  SplitMix64 rng(4242);
  for (bool inverse : {false, true}) {
    for (int c : {1, 2, 3, 6, 13}) {
      for (int trial = 0; trial < 4; ++trial) {
        Norm n;
        n.c = c;
        const int a = trial % 2 ? 32767 : int(rng.Uniform(1, 32767));
        // Smallest sq_shift with RSR(a^2, sq_shift) <= 32767.
        n.sq_shift = 0;
        while (RoundingShiftRight(int64_t{a} * a, n.sq_shift) > 32767) {
          ++n.sq_shift;
        }
        n.sq_shift += int(rng.Uniform(0, 2));
        const int64_t q = RoundingShiftRight(int64_t{a} * a, n.sq_shift);
        const int64_t gmax = std::min<int64_t>(
            32767, ((int64_t{1} << 30) / std::max<int64_t>(q, 1)) / c);
        n.gamma = RandomVector<int16_t>(rng, size_t(c) * c, 0, gmax);
        n.beta = RandomVector<int32_t>(rng, c, 1, trial < 2 ? 100 : 1 << 30);
        n.mult = RandomVector<int32_t>(rng, c, 1, 0x7fffffff);
        n.shift = inverse ? RandomVector<uint8_t>(rng, c, 15, 62)
                          : RandomVector<uint8_t>(rng, c, 0, 47);
        n.lo = int16_t(rng.Uniform(-32767, 0));
        n.hi = int16_t(rng.Uniform(0, 32767));
        REQUIRE(CheckNormalizationBounds(n.Params(), inverse, -a, a).ok());
        const Tensor16 in = RandomTensor(rng, 5, 7, c, -a, a);
        INFO((inverse ? "igdn" : "gdn") << " c=" << c << " a=" << a);
        const Tensor16 out = Run(in, n, inverse);
        const Tensor16 ref =
            testing::RefNormalize(in, n.sq_shift, n.gamma, n.beta, n.mult,
                                  n.shift, n.lo, n.hi, inverse);
        REQUIRE(out.data == ref.data);
        // In place gives the same.
        Tensor16 inplace = in;
        const Status st = inverse ? Igdn(inplace, n.Params(), &inplace)
                                  : Gdn(inplace, n.Params(), &inplace);
        REQUIRE(st.ok());
        REQUIRE(inplace.data == out.data);
      }
    }
  }
}

TEST_CASE("GDN / IGDN reject a channel mismatch", "[normalization]") {
  Norm n;
  n.c = 2;
  n.gamma = {1, 1, 1, 1};
  n.beta = {1, 1};
  n.mult = {1, 1};
  n.shift = {15, 15};
  Tensor16 in(2, 2, 3);
  Tensor16 out;
  CHECK_FALSE(Gdn(in, n.Params(), &out).ok());
  CHECK_FALSE(Igdn(in, n.Params(), &out).ok());
}

}  // namespace
}  // namespace fxic
