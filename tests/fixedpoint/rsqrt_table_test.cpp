// Pins kRsqrtTable: every entry is round_half_up(2^15 / sqrt((t + 64.5) / 64)),
// recomputed here with exact integer comparisons only.
#include "fixedpoint/rsqrt_table.h"

#include <catch2/catch.hpp>
#include <cstdint>

#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

// Largest u with u * u <= v, by bisection (exact).
uint64_t ISqrt(uint64_t v) {
  uint64_t lo = 0, hi = uint64_t{1} << 32;  // invariant: lo^2 <= v < hi^2
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (mid * mid <= v) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

TEST_CASE("kRsqrtTable is round_half_up(2^15 / sqrt((t + 64.5) / 64))",
          "[rsqrt_table]") {
  // v = 2^15 / sqrt((2t + 129) / 128) = sqrt(2^37 / (2t + 129)); q is its
  // round-half-up iff (q - 1/2)^2 <= v^2 < (q + 1/2)^2, i.e.
  // (2q - 1)^2 (2t + 129) <= 2^39 < (2q + 1)^2 (2t + 129). Both sides are
  // never equal (odd vs even), so the rounding is unambiguous.
  const uint64_t k2p39 = uint64_t{1} << 39;
  STATIC_REQUIRE(kRsqrtTableSize == 192);
  for (int t = 0; t < kRsqrtTableSize; ++t) {
    INFO("t = " << t);
    const uint64_t q = kRsqrtTable[t];
    const uint64_t d = 2 * uint64_t(t) + 129;
    CHECK((2 * q - 1) * (2 * q - 1) * d <= k2p39);
    CHECK((2 * q + 1) * (2 * q + 1) * d > k2p39);
    // Same value the generator's way: q = (isqrt(floor(2^39 / d)) + 1) >> 1.
    CHECK(q == ((ISqrt(k2p39 / d) + 1) >> 1));
  }
  CHECK(kRsqrtTable[0] == 32641);
  CHECK(kRsqrtTable[191] == 16400);
  // Strictly decreasing, and below 2^15 (Q15 value < 1).
  for (int t = 1; t < kRsqrtTableSize; ++t) {
    CHECK(kRsqrtTable[t] < kRsqrtTable[t - 1]);
  }
  CHECK(kRsqrtTable[0] < 32768);
}

}  // namespace
}  // namespace fxic
