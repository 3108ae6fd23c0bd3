// Pins the C++ kernels to the Python mirror (models/fxic/intops.py): both
// suites run the same splitmix64-generated cases and must produce the same
// FNV-1a hashes, pinned here and in models/tests/test_intops.py.
//
// To regenerate after an intended semantic change (and a doc update), run the
// binary with FXIC_PRINT_HASHES=1, and update both files.
#include <catch2/catch.hpp>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fixedpoint/bounds.h"
#include "fixedpoint/conv2d.h"
#include "fixedpoint/depth_to_space.h"
#include "fixedpoint/linear_scaling.h"
#include "fixedpoint/normalization.h"
#include "fixedpoint/rsqrt_table.h"
#include "tests/fixedpoint/fixedpoint_test_util.h"

namespace fxic {
namespace {

using testing::Fnv1a64;
using testing::RandomTensor;
using testing::RandomVector;
using testing::SplitMix64;

void Report(const char* name, uint64_t hash) {
  if (std::getenv("FXIC_PRINT_HASHES")) {
    std::printf("%s = 0x%016" PRIx64 "\n", name, hash);
  }
}

struct ConvCase {
  const char* name;
  uint64_t seed;
  int k, s, h, w, cin, cout, shift_lo, shift_hi, out_lo, out_hi;
  uint64_t expected;
};

// Recipe (same in Python): input H*W*Cin values Uniform(-32767, 32767) in HWC
// order; weights cout*K*K*cin Uniform(-127, 127) in [o][ky][kx][i] order;
// bias Uniform(-100000, 100000), mult Uniform(2^29, 2^31 - 1), shift
// Uniform(shift_lo, shift_hi), each for all output channels in turn.
uint64_t RunConvCase(const ConvCase& c) {
  SplitMix64 rng(c.seed);
  const Tensor16 in = RandomTensor(rng, c.h, c.w, c.cin, -32767, 32767);
  const auto w =
      RandomVector<int8_t>(rng, size_t(c.cout) * c.k * c.k * c.cin, -127, 127);
  const auto bias = RandomVector<int32_t>(rng, c.cout, -100000, 100000);
  const auto mult =
      RandomVector<int32_t>(rng, c.cout, int64_t{1} << 29, 0x7fffffff);
  const auto shift = RandomVector<uint8_t>(rng, c.cout, c.shift_lo, c.shift_hi);
  ConvParams p;
  p.kernel = c.k;
  p.stride = c.s;
  p.cin = c.cin;
  p.cout = c.cout;
  p.w = w.data();
  p.bias = bias.data();
  p.mult = mult.data();
  p.shift = shift.data();
  p.out_lo = int16_t(c.out_lo);
  p.out_hi = int16_t(c.out_hi);
  REQUIRE(CheckConvBounds(p, -32767, 32767).ok());
  Tensor16 out;
  REQUIRE(Conv2d(in, p, &out).ok());
  Fnv1a64 hash;
  hash.AddAll(out.data);
  return hash.value();
}

TEST_CASE("Cross-check hashes: conv2d", "[cross_check]") {
  const ConvCase cases[] = {
      {"conv_k5_s2", 101, 5, 2, 13, 11, 7, 5, 38, 46, -20000, 20000,
       0x8a2e35cdc336f8bcULL},
      {"conv_k3_s1", 102, 3, 1, 9, 8, 4, 6, 36, 44, 0, 32767,
       0x56e394d14235eff0ULL},
      {"conv_k1_s2", 103, 1, 2, 7, 10, 5, 3, 34, 42, -32767, 32767,
       0xf62ec70ecbe0a584ULL},
      {"conv_k1_s1", 104, 1, 1, 1, 7, 3, 4, 34, 42, -32767, 32767,
       0x6e7ffa7dd3fb364eULL},
      {"conv_k3_s2", 105, 3, 2, 1, 1, 6, 2, 36, 44, -32767, 32767,
       0x88ff8aee0a58af93ULL},
      {"conv_k5_s1", 106, 5, 1, 6, 5, 3, 4, 36, 44, -1000, 1000,
       0x23cf84ff5c2f643dULL},
  };
  for (const ConvCase& c : cases) {
    const uint64_t hash = RunConvCase(c);
    Report(c.name, hash);
    INFO(c.name);
    CHECK(hash == c.expected);
  }
}

// Recipe: H = 9, W = 7, C = 6, sq_shift 15; each input value: bits =
// Uniform(0, 15), mag = 2^bits - 1, x = Uniform(-mag, mag) (HWC order); then
// gamma C*C Uniform(0, 8000) row-major, beta Uniform(1, 1000), mult
// Uniform(2^29, 2^31 - 1), shift Uniform(shift_lo, shift_hi); output range
// [-32767, 32767].
uint64_t RunNormCase(uint64_t seed, bool inverse, int shift_lo, int shift_hi) {
  SplitMix64 rng(seed);
  const int c = 6;
  Tensor16 in(9, 7, c);
  for (int16_t& v : in.data) {
    const int bits = int(rng.Uniform(0, 15));
    const int64_t mag = (int64_t{1} << bits) - 1;
    v = int16_t(rng.Uniform(-mag, mag));
  }
  const auto gamma = RandomVector<int16_t>(rng, c * c, 0, 8000);
  const auto beta = RandomVector<int32_t>(rng, c, 1, 1000);
  const auto mult = RandomVector<int32_t>(rng, c, int64_t{1} << 29, 0x7fffffff);
  const auto shift = RandomVector<uint8_t>(rng, c, shift_lo, shift_hi);
  NormParams p;
  p.channels = c;
  p.sq_shift = 15;
  p.gamma = gamma.data();
  p.beta = beta.data();
  p.mult = mult.data();
  p.shift = shift.data();
  REQUIRE(CheckNormalizationBounds(p, inverse, -32767, 32767).ok());
  Tensor16 out;
  REQUIRE((inverse ? Igdn(in, p, &out) : Gdn(in, p, &out)).ok());
  Fnv1a64 hash;
  hash.AddAll(out.data);
  return hash.value();
}

TEST_CASE("Cross-check hashes: GDN, IGDN", "[cross_check]") {
  const uint64_t gdn = RunNormCase(7, false, 30, 36);
  const uint64_t igdn = RunNormCase(8, true, 56, 62);
  Report("gdn", gdn);
  Report("igdn", igdn);
  CHECK(gdn == 0x10d924ee9137d760ULL);
  CHECK(igdn == 0x841d9797e537f0a5ULL);
}

TEST_CASE("Cross-check hashes: rsqrt table and RsqrtQ30", "[cross_check]") {
  Fnv1a64 table;
  for (int t = 0; t < kRsqrtTableSize; ++t) table.Add(kRsqrtTable[t]);
  // Recipe: 1000 norms, bits = Uniform(0, 30), norm = Uniform(2^bits,
  // min(2^(bits+1) - 1, 2^31 - 1)); hash k, mq, r, s of each in turn.
  SplitMix64 rng(11);
  Fnv1a64 rsqrt;
  for (int i = 0; i < 1000; ++i) {
    const int bits = int(rng.Uniform(0, 30));
    const int64_t norm =
        rng.Uniform(int64_t{1} << bits,
                    std::min<int64_t>((int64_t{2} << bits) - 1, 0x7fffffff));
    const Rsqrt rs = RsqrtQ30(int32_t(norm));
    rsqrt.Add(rs.k);
    rsqrt.Add(rs.mq);
    rsqrt.Add(rs.r);
    rsqrt.Add(SqrtQ30(rs));
  }
  Report("rsqrt_table", table.value());
  Report("rsqrt_q30", rsqrt.value());
  CHECK(table.value() == 0xa1c619e8b07b7383ULL);
  CHECK(rsqrt.value() == 0x929404e29e17686cULL);
}

TEST_CASE("Cross-check hashes: depth_to_space, gains", "[cross_check]") {
  // Recipe: 5 x 3 x 12 input, Uniform(-32767, 32767).
  SplitMix64 rng(9);
  const Tensor16 in = RandomTensor(rng, 5, 3, 12, -32767, 32767);
  Tensor16 out;
  REQUIRE(DepthToSpace(in, &out).ok());
  Fnv1a64 d2s;
  d2s.AddAll(out.data);

  // Recipe: table 3 x 5 Uniform(1, 2^20), then a 6 x 4 x 5 input
  // Uniform(-32767, 32767); qf = 300, shift 16, output [-30000, 30000]; hash
  // the 5 interpolated gains, then the output.
  SplitMix64 grng(10);
  const auto table = RandomVector<int32_t>(grng, 15, 1, 1 << 20);
  const Tensor16 y = RandomTensor(grng, 6, 4, 5, -32767, 32767);
  REQUIRE(CheckGainBounds(table.data(), 3, 5, 16, -32767, 32767, -30000, 30000)
              .ok());
  std::vector<int32_t> gains(5);
  REQUIRE(InterpolateGains(table.data(), 3, 5, 300, gains.data()).ok());
  Tensor16 yg;
  ApplyGain(y, gains.data(), 16, -30000, 30000, &yg);
  Fnv1a64 gain;
  gain.AddAll(gains);
  gain.AddAll(yg.data);
  Report("depth_to_space", d2s.value());
  Report("gain", gain.value());
  CHECK(d2s.value() == 0x594afa34a8512718ULL);
  CHECK(gain.value() == 0x9a751f70a1c52eb9ULL);
}

}  // namespace
}  // namespace fxic
