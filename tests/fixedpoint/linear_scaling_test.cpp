// Tests for linear scaling (requantization) and the variable-rate gains.
#include "fixedpoint/linear_scaling.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

TEST_CASE("LinearScale rounds half up, then clamps", "[linear_scaling]") {
  CHECK(LinearScale(5, 1, 1, -32767, 32767) == 3);
  CHECK(LinearScale(-5, 1, 1, -32767, 32767) == -2);
  CHECK(LinearScale(-3, 1, 1, -32767, 32767) == -1);
  CHECK(LinearScale(7, 3, 2, -32767, 32767) == 5);  // 5.25
  CHECK(LinearScale(-7, 3, 2, -32767, 32767) == -5);
  CHECK(LinearScale(-5, 1, 1, 0, 32767) == 0);  // ReLU
  CHECK(LinearScale(1000, 1, 0, -100, 100) == 100);
  CHECK(LinearScale(-1000, 1, 0, -100, 100) == -100);
  CHECK(LinearScale(2147483647, 2147483647, 31, -32767, 32767) == 32767);
  CHECK(LinearScale(-2147483647, 2147483647, 31, -32767, 32767) == -32767);
  CHECK(LinearScale(-2147483647, 2147483647, 62, -32767, 32767) == -1);
  CHECK(LinearScale(-2147483648LL, 1, 16, -32767, 32767) == -32767);
  CHECK(LinearScale(2147483647, 1, 16, -32767, 32767) == 32767);
  CHECK(LinearScale(1 << 20, 1 << 10, 15, -32767, 32767) == 32767);
  CHECK(LinearScale(3 << 20, 1 << 10, 20, -32767, 32767) == 3072);
}

TEST_CASE("LinearScaleRow is per channel", "[linear_scaling]") {
  const std::vector<int32_t> acc = {10, 10, 10, -10, -10, -10};  // 2 pixels
  const std::vector<int32_t> mult = {1, 3, 5};
  const std::vector<uint8_t> shift = {0, 1, 2};
  std::vector<int16_t> out(6);
  LinearScaleRow(acc.data(), 2, 3, mult.data(), shift.data(), -12, 14,
                 out.data());
  // 10, 15, 12.5 -> 13 | -10, -15 -> -12 (clamp), -12.5 -> -12
  CHECK(out == std::vector<int16_t>{10, 14, 13, -10, -12, -12});
}

TEST_CASE("InterpolateGain and InterpolateGains", "[linear_scaling]") {
  CHECK(InterpolateGain(100, 200, 0) == 100);
  CHECK(InterpolateGain(100, 200, 256) == 200);
  CHECK(InterpolateGain(100, 200, 128) == 150);
  CHECK(InterpolateGain(100, 101, 128) == 101);  // 100.5 -> 101
  CHECK(InterpolateGain(101, 100, 128) == 101);  // 100.5 -> 101 (-0.5 -> 0)
  CHECK(InterpolateGain(200, 100, 64) == 175);
  CHECK(InterpolateGain(1, 0x7fffffff, 256) == 0x7fffffff);
  CHECK(InterpolateGain(0x7fffffff, 1, 256) == 1);
  CHECK(InterpolateGain(0x7fffffff, 1, 1) ==
        0x7fffffff - 8388608);  // -8388607.99 -> -8388608

  // 3 levels x 2 channels.
  const std::vector<int32_t> table = {100, 1000, 200, 3000, 400, 1000};
  std::vector<int32_t> g(2);
  REQUIRE(InterpolateGains(table.data(), 3, 2, 0, g.data()).ok());
  CHECK(g == std::vector<int32_t>{100, 1000});
  REQUIRE(InterpolateGains(table.data(), 3, 2, 128, g.data()).ok());
  CHECK(g == std::vector<int32_t>{150, 2000});
  REQUIRE(InterpolateGains(table.data(), 3, 2, 256, g.data()).ok());
  CHECK(g == std::vector<int32_t>{200, 3000});
  REQUIRE(InterpolateGains(table.data(), 3, 2, 320, g.data()).ok());
  CHECK(g == std::vector<int32_t>{250, 2500});  // l = 1, t = 64
  REQUIRE(InterpolateGains(table.data(), 3, 2, 512, g.data()).ok());
  CHECK(g == std::vector<int32_t>{400, 1000});  // l = min(2, 1) = 1, t = 256
  CHECK_FALSE(InterpolateGains(table.data(), 3, 2, 513, g.data()).ok());
  CHECK_FALSE(InterpolateGains(table.data(), 3, 2, -1, g.data()).ok());
  // One level: the table itself, only qf = 0.
  REQUIRE(InterpolateGains(table.data(), 1, 2, 0, g.data()).ok());
  CHECK(g == std::vector<int32_t>{100, 1000});
  CHECK_FALSE(InterpolateGains(table.data(), 1, 2, 1, g.data()).ok());
  CHECK_FALSE(InterpolateGains(table.data(), 0, 2, 0, g.data()).ok());
}

TEST_CASE("ApplyGain scales each channel", "[linear_scaling]") {
  Tensor16 y(1, 2, 2);
  y.data = {100, -100, 32767, -32767};
  const std::vector<int32_t> gain = {3 << 14, 1 << 14};  // 1.5, 0.5 in Q15
  Tensor16 out;
  ApplyGain(y, gain.data(), 15, -30000, 30000, &out);
  CHECK(out.height == 1);
  CHECK(out.width == 2);
  CHECK(out.data == std::vector<int16_t>{150, -50, 30000, -16383});
  ApplyGain(y, gain.data(), 15, -30000, 30000, &y);  // in place
  CHECK(y.data == out.data);
}

}  // namespace
}  // namespace fxic
