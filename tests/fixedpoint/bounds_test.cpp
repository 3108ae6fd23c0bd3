// Tests for the overflow proofs: accepted exactly at each limit, rejected one
// past it, with the offending channel and bound in the message.
#include "fixedpoint/bounds.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

using Catch::Matchers::Contains;

// A 5x5 stride-2 layer of 20 -> 3 channels at the largest weights and
// multipliers, which the tests then push to or past a limit.
struct ConvLayer : testing::ConvLayerData {
  ConvLayer() {
    k = 5;
    s = 2;
    cin = 20;
    cout = 3;
    w.assign(size_t(cout) * k * k * cin, 127);
    bias.assign(cout, 0);
    mult.assign(cout, 0x7fffffff);
    shift.assign(cout, 62);
  }
};

TEST_CASE("CheckConvBounds: exactly at the int32 limit is accepted",
          "[bounds]") {
  // sum|w| = 25 * 20 * 127 = 63500; 32767 * 63500 = 2080704500;
  // 2^31 - 1 - 2080704500 = 66779147.
  ConvLayer l;
  l.bias = {66779147, -66779147, 0};
  CHECK(CheckConvBounds(l.Params(), -32767, 32767).ok());
  CHECK(CheckConvBounds(l.Params(), 0, 32767).ok());
  CHECK(CheckConvBounds(l.Params(), -32767, 0).ok());
  // One more in |bias| on channel 1 overflows.
  l.bias[1] = -66779148;
  const Status st = CheckConvBounds(l.Params(), -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 1"));
  CHECK_THAT(st.message(), Contains("2147483648"));
  CHECK_THAT(st.message(), Contains("2^31 - 1"));
  // A smaller input range makes it fit again.
  CHECK(CheckConvBounds(l.Params(), -32766, 32766).ok());
}

TEST_CASE("CheckConvBounds: weights that could overflow are rejected",
          "[bounds]") {
  ConvLayer l;
  l.cin = 21;  // 25 * 21 * 127 * 32767 = 2184739725 > 2^31 - 1
  l.w.assign(size_t(l.cout) * 25 * 21, 1);
  for (int i = 0; i < 25 * 21; ++i) l.w[2 * 25 * 21 + i] = -127;
  l.bias.assign(3, 0);
  const Status st = CheckConvBounds(l.Params(), -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 2"));
  CHECK_THAT(st.message(), Contains("2184739725"));
  // With small activations the same weights are fine.
  CHECK(CheckConvBounds(l.Params(), -1000, 1000).ok());
}

TEST_CASE("CheckConvBounds: sum |w| exact for every filter length, -128 found anywhere",
          "[bounds]") {
  // Random weights in [-127, 127], filter lengths 1..., not multiples of the
  // 16-weight SIMD step: the bias that puts channel 1 exactly at the limit is
  // accepted and one more is rejected with the exact sum in the message.
  uint64_t seed = 12345;
  auto next = [&seed]() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(seed >> 33);
  };
  int cases = 0;
  for (int k : {1, 3, 5}) {
    for (int cin : {1, 2, 3, 5, 7, 16, 17, 31, 33, 64, 130}) {
      ConvLayer l;
      l.k = k;
      l.s = 1;
      l.cin = cin;
      const size_t filter = size_t(k) * k * cin;
      l.w.resize(filter * l.cout);
      for (auto& v : l.w) v = static_cast<int8_t>(static_cast<int>(next() % 255) - 127);
      int64_t sum1 = 0;
      for (size_t i = 0; i < filter; ++i) {
        const int v = l.w[filter + i];
        sum1 += v < 0 ? -v : v;
      }
      INFO("k " << k << " cin " << cin);
      const int64_t a = 1000;
      l.bias = {0, static_cast<int32_t>((int64_t{1} << 31) - 1 - a * sum1), 0};
      CHECK(CheckConvBounds(l.Params(), -a, a).ok());
      l.bias[1] += 1;
      const Status st = CheckConvBounds(l.Params(), -a, a);
      REQUIRE_FALSE(st.ok());
      CHECK_THAT(st.message(), Contains("channel 1"));
      CHECK_THAT(st.message(), Contains("sum|w| = " + std::to_string(sum1) + ","));
      l.bias[1] = 0;
      // One -128 at the first, a middle and the last position of channel 2.
      for (size_t at : {size_t{0}, filter / 2, filter - 1}) {
        std::vector<int8_t> w = l.w;
        w[2 * filter + at] = -128;
        ConvLayer m = l;
        m.w = w;
        const Status bad = CheckConvBounds(m.Params(), -a, a);
        REQUIRE_FALSE(bad.ok());
        CHECK_THAT(bad.message(), Contains("channel 2"));
        CHECK_THAT(bad.message(), Contains("-128"));
      }
      ++cases;
    }
  }
  CHECK(cases == 33);
}

TEST_CASE("CheckConvBounds validates parameter ranges", "[bounds]") {
  ConvLayer ok;
  ok.bias.assign(3, 0);
  REQUIRE(CheckConvBounds(ok.Params(), -100, 100).ok());
  auto rejected = [](const ConvLayer& l, int lo, int hi) {
    return !CheckConvBounds(l.Params(), lo, hi).ok();
  };
  ConvLayer l = ok;
  l.w[7] = -128;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.mult[1] = 0;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.shift[0] = 63;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.k = 7;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.s = 3;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.lo = 10;
  l.hi = 9;
  CHECK(rejected(l, -100, 100));
  l = ok;
  l.lo = -32768;
  CHECK(rejected(l, -100, 100));
  CHECK(rejected(ok, -32768, 100));
  CHECK(rejected(ok, 5, 4));
  ConvParams p = ok.Params();
  p.bias = nullptr;
  CHECK_FALSE(CheckConvBounds(p, -100, 100).ok());
}

struct NormLayer {
  int c = 3;
  std::vector<int16_t> gamma;
  std::vector<int32_t> beta, mult;
  std::vector<uint8_t> shift;
  NormParams Params() const {
    NormParams p;
    p.channels = c;
    p.sq_shift = 15;
    p.gamma = gamma.data();
    p.beta = beta.data();
    p.mult = mult.data();
    p.shift = shift.data();
    return p;
  }
};

TEST_CASE("CheckNormalizationBounds", "[bounds]") {
  // A = 32767, sq_shift 15: Q = RSR(1073676289, 15) = 32766.
  // gamma rows summing to 65538: Q * 65538 = 2147418108; beta up to 65539.
  NormLayer n;
  n.gamma = {32767, 32767, 4, 0, 0, 0, 1, 1, 1};
  n.beta = {65539, 1, 1};
  n.mult = {1, 1, 0x7fffffff};
  n.shift = {15, 47, 0};
  REQUIRE(CheckNormalizationBounds(n.Params(), false, -32767, 32767).ok());
  n.beta[0] = 65540;
  Status st = CheckNormalizationBounds(n.Params(), false, -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 0"));
  CHECK_THAT(st.message(), Contains("2147483648"));
  n.beta[0] = 65539;

  // Q: sq_shift 14 gives RSR(1073676289, 14) = 65532 > 32767.
  NormParams p = n.Params();
  p.sq_shift = 14;
  st = CheckNormalizationBounds(p, false, -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("65532"));
  // ... but fits for A = 181: RSR(32761, 14) = 2.
  CHECK(CheckNormalizationBounds(p, false, -181, 181).ok());

  // GDN shifts 0..47, IGDN 15..62.
  CHECK_FALSE(CheckNormalizationBounds(n.Params(), true, -32767, 32767).ok());
  n.shift = {15, 62, 30};
  CHECK(CheckNormalizationBounds(n.Params(), true, -32767, 32767).ok());
  CHECK_FALSE(CheckNormalizationBounds(n.Params(), false, -32767, 32767).ok());
  n.shift = {15, 47, 0};

  NormLayer bad = n;
  bad.beta[2] = 0;
  st = CheckNormalizationBounds(bad.Params(), false, -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 2"));
  bad = n;
  bad.gamma[4] = -1;
  st = CheckNormalizationBounds(bad.Params(), false, -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 1"));
  bad = n;
  bad.mult[1] = 0;
  CHECK_FALSE(CheckNormalizationBounds(bad.Params(), false, -1, 1).ok());
  p = n.Params();
  p.sq_shift = 63;
  CHECK_FALSE(CheckNormalizationBounds(p, false, -1, 1).ok());
  p = n.Params();
  p.out_hi = -32767;
  p.out_lo = 0;
  CHECK_FALSE(CheckNormalizationBounds(p, false, -1, 1).ok());
  p = n.Params();
  p.channels = 0;
  CHECK_FALSE(CheckNormalizationBounds(p, false, -1, 1).ok());
}

TEST_CASE("CheckGainBounds", "[bounds]") {
  const std::vector<int32_t> table = {1, 0x7fffffff, 5, 6, 7, 8};
  CHECK(CheckGainBounds(table.data(), 3, 2, 16, -32767, 32767, -32767, 32767)
            .ok());
  CHECK(CheckGainBounds(table.data(), 1, 2, 62, -32767, 32767, 0, 10).ok());
  std::vector<int32_t> bad = table;
  bad[5] = 0;
  const Status st =
      CheckGainBounds(bad.data(), 3, 2, 16, -32767, 32767, -32767, 32767);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Contains("channel 1"));
  CHECK_THAT(st.message(), Contains("level 2"));
  CHECK_FALSE(
      CheckGainBounds(table.data(), 3, 2, 63, -32767, 32767, -32767, 32767)
          .ok());
  CHECK_FALSE(
      CheckGainBounds(table.data(), 3, 2, -1, -32767, 32767, -32767, 32767)
          .ok());
  CHECK_FALSE(
      CheckGainBounds(table.data(), 0, 2, 16, -32767, 32767, -32767, 32767)
          .ok());
  CHECK_FALSE(
      CheckGainBounds(table.data(), 3, 2, 16, -32768, 32767, -32767, 32767)
          .ok());
  CHECK_FALSE(CheckGainBounds(table.data(), 3, 2, 16, -1, 1, 1, 0).ok());
}

}  // namespace
}  // namespace fxic
