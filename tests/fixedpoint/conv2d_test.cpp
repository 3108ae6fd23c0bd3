// Tests for the integer convolution + linear scaling: hand-computed cases and
// an int64 naive reference on random inputs (exact equality).
#include "fixedpoint/conv2d.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "fixedpoint/bounds.h"
#include "tests/fixedpoint/fixedpoint_test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fxic {
namespace {

using testing::RandomTensor;
using testing::RandomVector;
using testing::SplitMix64;

using Layer = testing::ConvLayerData;

Layer UnitLayer(int k, int s, int cin, int cout, int8_t weight) {
  Layer l{k,
          s,
          cin,
          cout,
          std::vector<int8_t>(size_t(cout) * k * k * cin, weight),
          std::vector<int32_t>(cout, 0),
          std::vector<int32_t>(cout, 1),
          std::vector<uint8_t>(cout, 0)};
  return l;
}

Tensor16 Run(const Tensor16& in, const Layer& l) {
  Tensor16 out;
  const Status st = Conv2d(in, l.Params(), &out);
  REQUIRE(st.ok());
  return out;
}

Tensor16 Ramp(int h, int w, int c) {
  Tensor16 t(h, w, c);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = int16_t(i + 1);
  return t;
}

TEST_CASE("Conv2d output sizes", "[conv2d]") {
  CHECK(ConvOutputSize(1, 1, 1) == 1);
  CHECK(ConvOutputSize(1, 5, 2) == 1);
  CHECK(ConvOutputSize(2, 5, 2) == 1);
  CHECK(ConvOutputSize(3, 5, 2) == 2);
  CHECK(ConvOutputSize(13, 5, 2) == 7);
  CHECK(ConvOutputSize(11, 3, 2) == 6);
  CHECK(ConvOutputSize(11, 3, 1) == 11);
  CHECK(ConvOutputSize(10, 1, 2) == 5);
}

TEST_CASE("Conv2d 3x3 box filter, hand-computed", "[conv2d]") {
  // Input 1..9 in a 3x3 single-channel image; all-ones 3x3 kernel, zero pad.
  //   1 2 3      12 21 16
  //   4 5 6  ->  27 45 33
  //   7 8 9      24 39 28
  const Tensor16 in = Ramp(3, 3, 1);
  Layer l = UnitLayer(3, 1, 1, 1, 1);
  const Tensor16 out = Run(in, l);
  REQUIRE(out.height == 3);
  REQUIRE(out.width == 3);
  CHECK(out.data == std::vector<int16_t>{12, 21, 16, 27, 45, 33, 24, 39, 28});

  // Stride 2 keeps the corners and the centre of the full result.
  l.s = 2;
  CHECK(Run(in, l).data == std::vector<int16_t>{12, 16, 24, 28});

  // Bias 1, M0 = 3, n = 2: (acc + 1) * 3 / 4 rounded half up, ReLU-free clamp
  // to [-20, 30]: 13*3/4 = 9.75 -> 10, 22 -> 16.5 -> 17, 17 -> 12.75 -> 13,
  // 28 -> 21, 46 -> 34.5 -> 35 -> 30, 34 -> 25.5 -> 26, 25 -> 18.75 -> 19,
  // 40 -> 30, 29 -> 21.75 -> 22.
  l.s = 1;
  l.bias = {1};
  l.mult = {3};
  l.shift = {2};
  l.lo = -20;
  l.hi = 30;
  CHECK(Run(in, l).data ==
        std::vector<int16_t>{10, 17, 13, 21, 30, 26, 19, 30, 22});

  // Negative weights: -12 * 3 / 4 = -9, -21 * 3 / 4 = -15.75 -> -16,
  // -27 * 3 / 4 = -20.25 -> -20, -39 * 3 / 4 = -29.25 -> clamp -20. With a
  // ReLU (lo = 0) everything clamps to 0.
  l.w = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
  l.bias = {0};
  l.lo = -20;
  CHECK(Run(in, l).data ==
        std::vector<int16_t>{-9, -16, -12, -20, -20, -20, -18, -20, -20});
  l.lo = 0;
  CHECK(Run(in, l).data == std::vector<int16_t>(9, 0));
}

TEST_CASE("Conv2d 1x1 mixes channels, 5x5 sees the whole small image",
          "[conv2d]") {
  // 1x1, 2 -> 3 channels on a 1x2 image: out[o] = sum_i w[o][i] * in[i].
  Tensor16 in(1, 2, 2);
  in.data = {3, -4, 10, 20};
  Layer l = UnitLayer(1, 1, 2, 3, 0);
  l.w = {1, 1, 2, -1, -127, 127};
  CHECK(Run(in, l).data == std::vector<int16_t>{-1, 10, -889, 30, 0, 1270});
  // 1x1 stride 2 on a 3x3 image picks the four corners.
  const Tensor16 ramp = Ramp(3, 3, 1);
  Layer pick = UnitLayer(1, 2, 1, 1, 1);
  CHECK(Run(ramp, pick).data == std::vector<int16_t>{1, 3, 7, 9});
  // 5x5 all-ones on a 2x2 image: every output sees all 4 pixels (sum 10);
  // stride 2 leaves one output.
  const Tensor16 small = Ramp(2, 2, 1);
  Layer box5 = UnitLayer(5, 1, 1, 1, 1);
  CHECK(Run(small, box5).data == std::vector<int16_t>{10, 10, 10, 10});
  box5.s = 2;
  CHECK(Run(small, box5).data == std::vector<int16_t>{10});
  // 5x5 on a 1x1 image: only the centre tap w[2][2] touches the pixel.
  Tensor16 one(1, 1, 1);
  one.data = {7};
  Layer centre = UnitLayer(5, 2, 1, 1, 0);
  centre.w[12] = -5;
  CHECK(Run(one, centre).data == std::vector<int16_t>{-35});
}

TEST_CASE("Conv2d matches the int64 naive reference on random inputs",
          "[conv2d]") {
  struct Shape {
    int h, w, cin, cout;
  };
  const Shape shapes[] = {{1, 1, 1, 1},   {1, 7, 3, 2}, {7, 1, 2, 3},
                          {13, 11, 7, 5}, {2, 2, 4, 4}, {6, 9, 16, 8},
                          {5, 5, 1, 9},   {4, 3, 33, 2}};
  SplitMix64 rng(2024);
  for (int k : {1, 3, 5}) {
    for (int s : {1, 2}) {
      for (const Shape& sh : shapes) {
        for (int trial = 0; trial < 3; ++trial) {
          // Input range and weights small enough for the overflow proof.
          const int a = trial == 0 ? 32767 : 1000;
          Layer l;
          l.k = k;
          l.s = s;
          l.cin = sh.cin;
          l.cout = sh.cout;
          const size_t taps = size_t(k) * k * sh.cin;
          const int wmax = int(
              std::min<int64_t>(127, (int64_t{1} << 30) / (a * int64_t(taps))));
          l.w = RandomVector<int8_t>(rng, taps * sh.cout, -wmax, wmax);
          l.bias = RandomVector<int32_t>(rng, sh.cout, -(1 << 29), 1 << 29);
          l.mult = RandomVector<int32_t>(rng, sh.cout, 1, 0x7fffffff);
          l.shift = RandomVector<uint8_t>(rng, sh.cout, 28, 50);
          l.lo = int16_t(rng.Uniform(-32767, 0));
          l.hi = int16_t(rng.Uniform(0, 32767));
          const Tensor16 in = RandomTensor(rng, sh.h, sh.w, sh.cin, -a, a);
          REQUIRE(CheckConvBounds(l.Params(), -a, a).ok());
          INFO("k=" << k << " s=" << s << " " << sh.h << "x" << sh.w << "x"
                    << sh.cin << " -> " << sh.cout);
          const Tensor16 out = Run(in, l);
          const Tensor16 ref = testing::RefConv2d(
              in, k, s, sh.cout, l.w, l.bias, l.mult, l.shift, l.lo, l.hi);
          REQUIRE(out.height == ref.height);
          REQUIRE(out.width == ref.width);
          REQUIRE(out.channels == sh.cout);
          REQUIRE(out.data == ref.data);
        }
      }
    }
  }
}

TEST_CASE("Conv2d reaches the int32 accumulator limit exactly", "[conv2d]") {
  // 5x5, 20 input channels, all weights 127, input all +-32767: the centre
  // output accumulates |bias| + 32767 * 63500 = 2^31 - 1.
  Layer l = UnitLayer(5, 1, 20, 2, 127);
  l.w.assign(l.w.size() / 2, 127);
  l.w.resize(l.w.size() * 2, -127);
  const int32_t bias = 2147483647 - 32767 * 63500;
  l.bias = {bias, bias};
  l.mult = {1, 0x7fffffff};
  l.shift = {31, 62};
  REQUIRE(CheckConvBounds(l.Params(), -32767, 32767).ok());
  for (int sign : {1, -1}) {
    Tensor16 in(5, 5, 20);
    for (int16_t& v : in.data) v = int16_t(sign * 32767);
    l.bias = {sign * bias, -sign * bias};
    const Tensor16 out = Run(in, l);
    const Tensor16 ref = testing::RefConv2d(in, 5, 1, 2, l.w, l.bias, l.mult,
                                            l.shift, l.lo, l.hi);
    CHECK(out.data == ref.data);
    // acc = +-(2^31 - 1): (2^31 - 1) / 2^31 -> +-1; (2^31-1)^2 / 2^62 -> +-1.
    CHECK(out.at(2, 2, 0) == sign);
    CHECK(out.at(2, 2, 1) == -sign);
  }
}

TEST_CASE("Conv2d gives the same bytes for any thread count", "[conv2d]") {
  SplitMix64 rng(5);
  Layer l;
  l.k = 3;
  l.s = 1;
  l.cin = 8;
  l.cout = 8;
  l.w = RandomVector<int8_t>(rng, 9 * 8 * 8, -127, 127);
  l.bias = RandomVector<int32_t>(rng, 8, -1000, 1000);
  l.mult = RandomVector<int32_t>(rng, 8, 1 << 29, 0x7fffffff);
  l.shift = RandomVector<uint8_t>(rng, 8, 38, 42);
  // Large enough (1.7 M MACs) for the kernels to use several threads.
  const Tensor16 in = RandomTensor(rng, 61, 49, 8, -32767, 32767);
  const Tensor16 ref =
      testing::RefConv2d(in, 3, 1, 8, l.w, l.bias, l.mult, l.shift, l.lo, l.hi);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    omp_set_num_threads(threads);
    CHECK(Run(in, l).data == ref.data);
  }
  omp_set_num_threads(saved);
#else
  CHECK(Run(in, l).data == ref.data);
#endif
}

TEST_CASE("Conv2d rejects bad shapes", "[conv2d]") {
  Layer l = UnitLayer(3, 1, 2, 1, 1);
  Tensor16 out;
  Tensor16 wrong(3, 3, 3);
  CHECK_FALSE(Conv2d(wrong, l.Params(), &out).ok());
  Tensor16 empty(0, 3, 2);
  CHECK_FALSE(Conv2d(empty, l.Params(), &out).ok());
  Tensor16 in(3, 3, 2);
  CHECK_FALSE(Conv2d(in, l.Params(), &in).ok());
  l.k = 4;
  CHECK_FALSE(Conv2d(in, l.Params(), &out).ok());
  l.k = 3;
  l.s = 3;
  CHECK_FALSE(Conv2d(in, l.Params(), &out).ok());
}

}  // namespace
}  // namespace fxic
