// Tests for the rounding, shift and saturation helpers (hand-written tables).
#include "fixedpoint/rounding.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t k2p62 = int64_t{1} << 62;

// The helpers are usable at compile time.
static_assert(RoundingShiftRight(-3, 1) == -1, "");
static_assert(MulShift(3, 5, 1) == 8, "");
static_assert(SaturateCast<int16_t>(40000) == 32767, "");
static_assert(FloorLog2(1) == 0 && FloorLog2(0x80000000u) == 31, "");

struct RsrCase {
  int64_t x;
  int n;
  int64_t expected;
};

TEST_CASE("RoundingShiftRight rounds half up (towards +inf)", "[rounding]") {
  const RsrCase cases[] = {
      // n == 0 is the identity.
      {0, 0, 0},
      {-7, 0, -7},
      {kInt32Min, 0, kInt32Min},
      {k2p62 - 1, 0, k2p62 - 1},
      {-(k2p62 - 1), 0, -(k2p62 - 1)},
      // Halves go up: 2.5 -> 3, -1.5 -> -1, -2.5 -> -2, 0.5 -> 1, -0.5 -> 0.
      {5, 1, 3},
      {-3, 1, -1},
      {-5, 1, -2},
      {1, 1, 1},
      {-1, 1, 0},
      {3, 1, 2},
      {-2, 2, 0},
      {-6, 2, -1},
      {6, 2, 2},
      {-10, 2, -2},
      // Not halves: nearest.
      {7, 2, 2},
      {5, 2, 1},
      {-5, 2, -1},
      {-7, 2, -2},
      {-9, 3, -1},
      {4, 1, 2},
      {-4, 1, -2},
      {0, 5, 0},
      {100, 3, 13},
      {-100, 3, -12},
      // int16 extremes.
      {32767, 15, 1},
      {-32768, 15, -1},
      {-32767, 15, -1},
      {16384, 15, 1},
      {-16384, 15, 0},
      {16383, 15, 0},
      {-16385, 15, -1},
      {32767, 16, 0},
      {-32768, 16, 0},
      {-32769, 16, -1},
      {int64_t{32767} * 32767, 15, 32766},
      {int64_t{-32768} * 32767, 15, -32767},
      // int32 extremes.
      {kInt32Min, 1, -(int64_t{1} << 30)},
      {kInt32Min, 31, -1},
      {kInt32Min, 32, 0},
      {kInt32Min - 1, 32, -1},
      {kInt32Max, 31, 1},
      {kInt32Max, 32, 0},
      {kInt32Max + 1, 32, 1},
      {kInt32Max, 1, int64_t{1} << 30},
      {kInt32Max, 16, 32768},
      {kInt32Min, 16, -32768},
      // The edges of the domain |x| < 2^62, n <= 62.
      {k2p62 - 1, 62, 1},
      {-(k2p62 - 1), 62, -1},
      {int64_t{1} << 61, 62, 1},
      {-(int64_t{1} << 61), 62, 0},
      {(int64_t{1} << 61) - 1, 62, 0},
      {-(int64_t{1} << 61) - 1, 62, -1},
      {k2p62 - 1, 1, int64_t{1} << 61},
      {-(k2p62 - 1), 1, -(int64_t{1} << 61) + 1},
  };
  for (const RsrCase& c : cases) {
    INFO("x = " << c.x << ", n = " << c.n);
    CHECK(RoundingShiftRight(c.x, c.n) == c.expected);
    CHECK(testing::RefRoundHalfUp(c.x, c.n) == c.expected);
  }
}

TEST_CASE("RoundingShiftRight matches floor((x + 2^(n-1)) / 2^n) densely",
          "[rounding]") {
  testing::SplitMix64 rng(42);
  for (int n = 0; n <= 62; ++n) {
    for (int i = 0; i < 2000; ++i) {
      const int bits = static_cast<int>(rng.Uniform(0, 61));
      const int64_t x =
          rng.Uniform(-(int64_t{1} << bits), (int64_t{1} << bits));
      REQUIRE(RoundingShiftRight(x, n) == testing::RefRoundHalfUp(x, n));
    }
  }
}

TEST_CASE("Clamp", "[rounding]") {
  CHECK(Clamp(5, 0, 10) == 5);
  CHECK(Clamp(-1, 0, 10) == 0);
  CHECK(Clamp(11, 0, 10) == 10);
  CHECK(Clamp(3, 3, 3) == 3);
  CHECK(Clamp(kInt64Min, -32767, 32767) == -32767);
  CHECK(Clamp(kInt64Max, -32767, 32767) == 32767);
  CHECK(Clamp(-32768, -32767, 32767) == -32767);
}

TEST_CASE("SaturateCast", "[rounding]") {
  CHECK(SaturateCast<int16_t>(0) == 0);
  CHECK(SaturateCast<int16_t>(32767) == 32767);
  CHECK(SaturateCast<int16_t>(32768) == 32767);
  CHECK(SaturateCast<int16_t>(-32768) == -32768);
  CHECK(SaturateCast<int16_t>(-32769) == -32768);
  CHECK(SaturateCast<int16_t>(kInt64Min) == -32768);
  CHECK(SaturateCast<int16_t>(kInt64Max) == 32767);
  CHECK(SaturateCast<int32_t>(kInt32Max + 1) == kInt32Max);
  CHECK(SaturateCast<int32_t>(kInt32Min - 1) == kInt32Min);
  CHECK(SaturateCast<int32_t>(kInt32Min) == kInt32Min);
  CHECK(SaturateCast<uint8_t>(-1) == 0);
  CHECK(SaturateCast<uint8_t>(300) == 255);
  CHECK(SaturateCast<int8_t>(-200) == -128);
  CHECK(SaturateCast<uint32_t>(-5) == 0u);
  CHECK(SaturateCast<uint32_t>(kInt64Max) == 0xffffffffu);
  CHECK(SaturateCast<int64_t>(kInt64Min) == kInt64Min);
}

TEST_CASE("MulShift", "[rounding]") {
  CHECK(MulShift(3, 5, 1) == 8);    // 7.5 -> 8
  CHECK(MulShift(-3, 5, 1) == -7);  // -7.5 -> -7
  CHECK(MulShift(-3, 5, 0) == -15);
  CHECK(MulShift(1000, 3, 2) == 750);
  CHECK(MulShift(-1, 1, 1) == 0);  // -0.5 -> 0
  CHECK(MulShift(0, kInt32Max, 62) == 0);
  // The largest products of the domain: int32 accumulator times int32 M0.
  CHECK(MulShift(kInt32Max, kInt32Max, 62) == 1);
  CHECK(MulShift(-kInt32Max, kInt32Max, 62) == -1);
  CHECK(MulShift(kInt32Max, kInt32Max, 31) == kInt32Max - 1);
  CHECK(MulShift(-kInt32Max, kInt32Max, 31) == -(kInt32Max - 1));
  CHECK(MulShift(kInt32Min, 1, 31) == -1);
  CHECK(MulShift(-32768, kInt32Max, 46) == -1);  // -0.99999 -> -1
  CHECK(MulShift(32767, kInt32Max, 62) == 0);
}

TEST_CASE("FloorLog2", "[rounding]") {
  const struct {
    uint32_t v;
    int log;
  } cases[] = {
      {1, 0},           {2, 1},           {3, 1},           {4, 2},
      {5, 2},           {7, 2},           {8, 3},           {255, 7},
      {256, 8},         {0xffff, 15},     {0x10000, 16},    {0x10001, 16},
      {0x7fffffff, 30}, {0x40000000, 30}, {0x3fffffff, 29}, {0x80000000u, 31},
      {0xffffffffu, 31}};
  for (const auto& c : cases) {
    INFO("v = " << c.v);
    CHECK(FloorLog2(c.v) == c.log);
  }
  for (int b = 0; b < 32; ++b) {
    const uint32_t p = uint32_t{1} << b;
    CHECK(FloorLog2(p) == b);
    if (b > 0) CHECK(FloorLog2(p - 1) == (b == 1 ? 0 : b - 1));
    if (b < 31) CHECK(FloorLog2(p + 1) == (b == 0 ? 1 : b));
  }
}

}  // namespace
}  // namespace fxic
