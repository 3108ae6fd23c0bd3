// Tests for the range coder: round trips, flush length, robustness, golden.
#include "entropy/range_coder.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>  // Tests only: the ideal code length for the efficiency bound.
#include <cstdint>
#include <vector>

#include "entropy/cdf.h"
#include "tests/entropy/entropy_test_util.h"

namespace fxic::entropy {
namespace {

using testing::PeakedCdf;
using testing::RandomCdf;
using testing::SampleSymbol;
using testing::SplitMix64;

// One coded item: a symbol of tables[table], or (table < 0) nbits bypass bits.
struct Op {
  int table;
  int nbits;
  uint32_t value;
};

struct Stream {
  std::vector<std::vector<uint32_t>> tables;
  std::vector<Op> ops;
};

struct Decoded {
  std::vector<uint32_t> values;
  size_t past_end = 0;
  bool corrupt = false;
};

std::vector<uint8_t> EncodeStream(const Stream& s) {
  RangeEncoder enc;
  for (const Op& op : s.ops) {
    if (op.table < 0) {
      enc.EncodeBits(op.value, op.nbits);
    } else {
      enc.EncodeSymbol(s.tables[op.table].data(), static_cast<int>(op.value));
    }
  }
  return enc.Finish();
}

Decoded DecodeStream(const Stream& s, const uint8_t* data, size_t size) {
  RangeDecoder dec(data, size);
  Decoded d;
  for (const Op& op : s.ops) {
    if (op.table < 0) {
      d.values.push_back(dec.DecodeBits(op.nbits));
    } else {
      const auto& cdf = s.tables[op.table];
      const int n = static_cast<int>(cdf.size()) - 1;
      d.values.push_back(
          static_cast<uint32_t>(dec.DecodeSymbol(cdf.data(), n)));
    }
  }
  d.past_end = dec.bytes_read_past_end();
  d.corrupt = dec.corrupt();
  return d;
}

std::vector<uint32_t> Expected(const Stream& s) {
  std::vector<uint32_t> v;
  for (const Op& op : s.ops) v.push_back(op.value);
  return v;
}

// Index of the first difference, or -1.
long FirstMismatch(const std::vector<uint32_t>& a,
                   const std::vector<uint32_t>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return static_cast<long>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<long>(a.size());
}

std::vector<uint32_t> UniformCdf(uint32_t n) {
  std::vector<uint32_t> cdf(n + 1);
  for (uint32_t i = 0; i <= n; ++i) {
    cdf[i] = static_cast<uint32_t>(uint64_t{i} * kCdfTotal / n);
  }
  return cdf;
}

// A table mix with extremes: 1-symbol, 2-symbol peaked both ways, 65536
// symbols, and random tables of random sizes and skew.
std::vector<std::vector<uint32_t>> MakeTables(SplitMix64& rng) {
  std::vector<std::vector<uint32_t>> t;
  t.push_back({0, kCdfTotal});
  t.push_back(PeakedCdf(2, 0));  // {0, 65535, 65536}
  t.push_back(PeakedCdf(2, 1));  // {0, 1, 65536}
  t.push_back(UniformCdf(2));
  if (rng.Below(4) == 0) t.push_back(UniformCdf(kMaxSymbols));
  t.push_back(PeakedCdf(300, static_cast<uint32_t>(rng.Below(300))));
  const int extra = 2 + static_cast<int>(rng.Below(6));
  for (int i = 0; i < extra; ++i) {
    static const uint32_t kMaxN[] = {2, 3, 16, 300, 4096, 65536};
    const uint32_t n =
        1 + static_cast<uint32_t>(rng.Below(kMaxN[rng.Below(6)]));
    t.push_back(RandomCdf(rng, n));
  }
  return t;
}

// Random ops; runs of one op repeated drive the coder into long carry chains
// and long stretches without output.
Stream RandomStream(uint64_t seed, size_t num_ops) {
  SplitMix64 rng(seed);
  Stream s;
  s.tables = MakeTables(rng);
  while (s.ops.size() < num_ops) {
    Op op;
    if (rng.Below(5) == 0) {
      op.table = -1;
      op.nbits = 1 + static_cast<int>(rng.Below(16));
      op.value = static_cast<uint32_t>(rng.Next()) & ((1u << op.nbits) - 1);
      if (rng.Below(4) == 0) op.value = (1u << op.nbits) - 1;
    } else {
      op.table = static_cast<int>(rng.Below(s.tables.size()));
      op.nbits = 0;
      const auto& cdf = s.tables[op.table];
      if (rng.Below(4) == 0) {
        op.value = static_cast<uint32_t>(rng.Below(cdf.size() - 1));
      } else {
        op.value = static_cast<uint32_t>(SampleSymbol(rng, cdf));
      }
    }
    const size_t run = rng.Below(8) == 0 ? 1 + rng.Below(200) : 1;
    for (size_t i = 0; i < run && s.ops.size() < num_ops; ++i) {
      s.ops.push_back(op);
    }
  }
  return s;
}

// The specification with naive arithmetic: bytes already shifted out are
// kept in out_ and a carry walks back through them. RangeEncoder must give
// the same bytes with its cache / pending-0xFF pipeline.
class ReferenceEncoder {
 public:
  void Encode(uint32_t cum_freq, uint32_t freq) {
    const uint32_t r = range_ >> 16;
    low_ += uint64_t{r} * cum_freq;
    range_ = r * freq;
    Carry();
    while (range_ < (1u << 24)) {
      out_.push_back(static_cast<uint8_t>(low_ >> 24));
      low_ = (low_ << 8) & 0xFFFFFFFFu;
      range_ <<= 8;
    }
  }
  std::vector<uint8_t> Finish() {
    for (int k = 0; k <= 4; ++k) {
      const uint64_t step = uint64_t{1} << (32 - 8 * k);
      const uint64_t v = (low_ + step - 1) / step * step;
      if (v < low_ + range_) {
        low_ = v;
        Carry();
        for (int i = 0; i < k; ++i) {
          out_.push_back(static_cast<uint8_t>(low_ >> (24 - 8 * i)));
        }
        return out_;
      }
    }
    return {};  // Unreachable: k = 4 always fits.
  }
  uint64_t low() const { return low_; }
  uint32_t range() const { return range_; }
  bool carry_overflow() const { return carry_overflow_; }

 private:
  void Carry() {
    if (low_ < (uint64_t{1} << 32)) return;
    low_ -= uint64_t{1} << 32;
    for (size_t i = out_.size(); i-- > 0;) {
      if (++out_[i] != 0) return;
    }
    carry_overflow_ = true;  // A carry out of the first byte: a format bug.
  }

  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  std::vector<uint8_t> out_;
  bool carry_overflow_ = false;
};

std::vector<uint8_t> ReferenceEncode(const Stream& s) {
  ReferenceEncoder enc;
  for (const Op& op : s.ops) {
    if (op.table < 0) {
      const int shift = 16 - op.nbits;
      enc.Encode(op.value << shift, 1u << shift);
    } else {
      const auto& cdf = s.tables[op.table];
      enc.Encode(cdf[op.value], cdf[op.value + 1] - cdf[op.value]);
    }
  }
  std::vector<uint8_t> bytes = enc.Finish();
  CHECK_FALSE(enc.carry_overflow());
  return bytes;
}

// Round trip plus the properties every intact stream has.
void CheckRoundTrip(const Stream& s) {
  const std::vector<uint8_t> bytes = EncodeStream(s);
  const Decoded d = DecodeStream(s, bytes.data(), bytes.size());
  INFO("stream bytes: " << bytes.size());
  REQUIRE(bytes == ReferenceEncode(s));
  REQUIRE(FirstMismatch(d.values, Expected(s)) == -1);
  CHECK_FALSE(d.corrupt);
  // Decoder reads 4 + (bytes shifted out); the flush is 0 or 1 byte.
  CHECK(d.past_end >= 3);
  CHECK(d.past_end <= 4);
  // Minimal flush: a nonzero last byte is needed (zeros are implied anyway).
  if (!bytes.empty() && bytes.back() != 0) {
    const Decoded cut = DecodeStream(s, bytes.data(), bytes.size() - 1);
    CHECK(FirstMismatch(cut.values, Expected(s)) != -1);
  }
}

TEST_CASE("RangeCoder round-trips random streams", "[entropy][range_coder]") {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    SplitMix64 len_rng(seed * 7919);
    CheckRoundTrip(RandomStream(seed, 1000 + len_rng.Below(4000)));
  }
}

TEST_CASE("RangeCoder round-trips short streams", "[entropy][range_coder]") {
  for (uint64_t seed = 1000; seed < 3000; ++seed) {
    INFO("seed " << seed);
    CheckRoundTrip(RandomStream(seed, seed % 12));
  }
}

TEST_CASE("RangeCoder handles extreme skew and carry chains",
          "[entropy][range_coder]") {
  const std::vector<uint32_t> hi = PeakedCdf(2, 1);  // {0, 1, 65536}
  const std::vector<uint32_t> lo = PeakedCdf(2, 0);  // {0, 65535, 65536}
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    Stream s;
    s.tables = {hi, lo};
    // Long runs of the top symbol push low towards the top of the interval
    // (0xFF bytes pile up); rare other symbols then carry into them.
    for (int run = 0; run < 40; ++run) {
      const size_t len = rng.Below(3000);
      for (size_t i = 0; i < len; ++i) s.ops.push_back({0, 0, 1});
      switch (rng.Below(4)) {
        case 0:
          s.ops.push_back({0, 0, 0});
          break;
        case 1:
          s.ops.push_back({1, 0, 1});
          break;
        case 2:
          s.ops.push_back({-1, 16, 0xFFFF});
          break;
        default:
          s.ops.push_back({-1, 16, 0});
          break;
      }
    }
    CheckRoundTrip(s);
  }
}

// Steers the reference encoder so that the interval keeps straddling the
// carry point 2^32 of its window for many bytes (every shifted byte is then a
// pending 0xFF), then ends the chain above the point (a carry turns the whole
// chain into 0x00) or below it (no carry).
TEST_CASE("RangeCoder long carry chains", "[entropy][range_coder]") {
  const std::vector<uint32_t> cdf = UniformCdf(256);
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    Stream s;
    s.tables = {cdf};
    ReferenceEncoder ref;
    auto push = [&](uint32_t sym) {
      s.ops.push_back({0, 0, sym});
      ref.Encode(cdf[sym], cdf[sym + 1] - cdf[sym]);
    };
    for (int chain = 0; chain < 20; ++chain) {
      for (int i = 0; i < 4; ++i) push(static_cast<uint32_t>(rng.Below(256)));
      const size_t len = rng.Below(2) == 0 ? rng.Below(10) : rng.Below(400);
      const bool carry = rng.Below(2) == 0;
      for (size_t i = 0; i < len; ++i) {
        const uint64_t point = uint64_t{1} << 32;
        const uint32_t r = ref.range() >> 16;
        if (ref.low() >= point || point - ref.low() >= uint64_t{r} * 65536) {
          break;  // The point left the codable part of the interval.
        }
        const uint64_t target = (point - ref.low()) / r;  // < 65536
        const uint32_t sym = static_cast<uint32_t>(target / 256);
        if (i + 1 < len) {
          push(sym);  // The sub-interval containing the point.
        } else if (carry && sym < 255) {
          push(sym + 1);  // Entirely above the point: carry.
        } else if (!carry && sym > 0) {
          push(sym - 1);  // Entirely below: the chain stays 0xFF.
        }
      }
    }
    const std::vector<uint8_t> bytes = EncodeStream(s);
    size_t longest_ff = 0, longest_00 = 0, run_ff = 0, run_00 = 0;
    for (uint8_t b : bytes) {
      run_ff = b == 0xFF ? run_ff + 1 : 0;
      run_00 = b == 0x00 ? run_00 + 1 : 0;
      longest_ff = std::max(longest_ff, run_ff);
      longest_00 = std::max(longest_00, run_00);
    }
    CHECK(std::max(longest_ff, longest_00) >= 100);  // Chains were built.
    CheckRoundTrip(s);
  }
}

TEST_CASE("RangeCoder one-symbol tables cost nothing",
          "[entropy][range_coder]") {
  Stream s;
  s.tables = {{0, kCdfTotal}};
  s.ops.assign(10000, Op{0, 0, 0});
  CHECK(EncodeStream(s).empty());
  CheckRoundTrip(s);
}

TEST_CASE("RangeCoder 65536-symbol alphabet", "[entropy][range_coder]") {
  SplitMix64 rng(42);
  Stream s;
  s.tables = {UniformCdf(kMaxSymbols), RandomCdf(rng, kMaxSymbols)};
  for (uint32_t v : {0u, 1u, 65534u, 65535u}) {
    s.ops.push_back({0, 0, v});
    s.ops.push_back({1, 0, v});
  }
  for (int i = 0; i < 5000; ++i) {
    s.ops.push_back({static_cast<int>(rng.Below(2)), 0,
                     static_cast<uint32_t>(rng.Below(kMaxSymbols))});
  }
  CheckRoundTrip(s);
}

TEST_CASE("RangeCoder bypass bits of every width", "[entropy][range_coder]") {
  SplitMix64 rng(7);
  Stream s;
  for (int nbits = 1; nbits <= 16; ++nbits) {
    const uint32_t max = (1u << nbits) - 1;
    for (uint32_t v : {0u, 1u & max, max, max >> 1})
      s.ops.push_back({-1, nbits, v});
    for (int i = 0; i < 300; ++i) {
      s.ops.push_back({-1, nbits, static_cast<uint32_t>(rng.Next()) & max});
    }
  }
  CheckRoundTrip(s);
  // Bits above nbits are ignored by the encoder.
  RangeEncoder a, b;
  a.EncodeBits(0xABCD5, 4);
  b.EncodeBits(0x5, 4);
  CHECK(a.Finish() == b.Finish());
}

TEST_CASE("RangeCoder empty stream", "[entropy][range_coder]") {
  RangeEncoder enc;
  const std::vector<uint8_t> bytes = enc.Finish();
  CHECK(bytes.empty());
  RangeDecoder dec(bytes.data(), bytes.size());
  CHECK(dec.bytes_read_past_end() == 4);
  CHECK_FALSE(dec.corrupt());
  RangeDecoder null_dec(nullptr, 123);  // Null data reads as empty.
  CHECK(null_dec.bytes_read_past_end() == 4);
}

TEST_CASE("RangeCoder single-symbol streams are short",
          "[entropy][range_coder]") {
  SplitMix64 rng(99);
  std::vector<std::vector<uint32_t>> tables = {
      {0, kCdfTotal},         PeakedCdf(2, 0), PeakedCdf(2, 1),
      UniformCdf(2),          UniformCdf(300), RandomCdf(rng, 17),
      UniformCdf(kMaxSymbols)};
  for (size_t t = 0; t < tables.size(); ++t) {
    const auto& cdf = tables[t];
    const uint32_t n = static_cast<uint32_t>(cdf.size() - 1);
    for (uint32_t sym : {0u, 1u, n / 2, n - 1}) {
      if (sym >= n) continue;
      INFO("table " << t << " symbol " << sym);
      Stream s;
      s.tables = {cdf};
      s.ops = {{0, 0, sym}};
      const std::vector<uint8_t> bytes = EncodeStream(s);
      const uint32_t freq = cdf[sym + 1] - cdf[sym];
      // No renormalisation when freq >= 257: the output is just the flush,
      // 0 bytes if the interval contains 0, else exactly 1 byte.
      if (freq >= 257) {
        CHECK(bytes.size() == (cdf[sym] == 0 ? 0u : 1u));
      }
      CHECK(bytes.size() <= 3);  // At most 2 shifted bytes + 1 flush byte.
      CheckRoundTrip(s);
    }
  }
  // Bypass bits map straight onto bytes (worked examples in the doc).
  for (int nbits = 1; nbits <= 16; ++nbits) {
    INFO("nbits " << nbits);
    RangeEncoder zero, one;
    zero.EncodeBits(0, nbits);
    one.EncodeBits(1, nbits);
    CHECK(zero.Finish().size() == static_cast<size_t>(nbits / 8));
    CHECK(one.Finish().size() == static_cast<size_t>((nbits + 7) / 8));
  }
  auto bits = [](uint32_t value, int nbits) {
    RangeEncoder enc;
    enc.EncodeBits(value, nbits);
    return enc.Finish();
  };
  CHECK(bits(1, 1) == std::vector<uint8_t>{0x80});
  CHECK(bits(5, 3) == std::vector<uint8_t>{0xA0});
  CHECK(bits(0xFF, 8) == std::vector<uint8_t>{0xFF});
  CHECK(bits(1, 16) == std::vector<uint8_t>{0x00, 0x01});
  CHECK(bits(0xFFFF, 16) == std::vector<uint8_t>{0xFF, 0xFE, 0x01});
}

TEST_CASE("RangeCoder size is close to the ideal code length",
          "[entropy][range_coder]") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    const Stream s = RandomStream(seed, 5000);
    double ideal_bits = 0;
    for (const Op& op : s.ops) {
      if (op.table < 0) {
        ideal_bits += op.nbits;
      } else {
        const auto& cdf = s.tables[op.table];
        ideal_bits +=
            16.0 - std::log2(double(cdf[op.value + 1] - cdf[op.value]));
      }
    }
    // Each step loses < log2(1 + 2^-8) < 0.0057 bits; the flush <= 8 bits.
    const double bound = ideal_bits + 0.0057 * s.ops.size() + 8.0;
    CHECK(8.0 * EncodeStream(s).size() <= bound);
  }
}

TEST_CASE("RangeCoder encoder is reusable after Finish",
          "[entropy][range_coder]") {
  const Stream s = RandomStream(5, 500);
  RangeEncoder enc;
  std::vector<uint8_t> first, second;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Op& op : s.ops) {
      if (op.table < 0) {
        enc.EncodeBits(op.value, op.nbits);
      } else {
        enc.EncodeSymbol(s.tables[op.table].data(), static_cast<int>(op.value));
      }
    }
    (pass == 0 ? first : second) = enc.Finish();
  }
  CHECK(first == second);
  CHECK(first == EncodeStream(s));
}

TEST_CASE("RangeDecoder survives garbage bytes", "[entropy][range_coder]") {
  for (uint64_t seed = 1; seed <= 600; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    std::vector<uint8_t> bytes(rng.Below(100));
    const uint64_t mode = rng.Below(4);
    for (auto& b : bytes) {
      b = mode == 0   ? 0xFF
          : mode == 1 ? 0x00
                      : static_cast<uint8_t>(rng.Next());
      if (mode == 3 && rng.Below(4) != 0) b = 0xFF;
    }
    const Stream s = RandomStream(seed, 300);
    const Decoded d = DecodeStream(s, bytes.data(), bytes.size());
    for (size_t i = 0; i < s.ops.size(); ++i) {
      const Op& op = s.ops[i];
      const uint32_t limit =
          op.table < 0 ? (1u << op.nbits)
                       : static_cast<uint32_t>(s.tables[op.table].size() - 1);
      REQUIRE(d.values[i] < limit);
    }
  }
  RangeDecoder dec(nullptr, 0);
  const uint32_t cdf[] = {0, kCdfTotal};
  CHECK(dec.DecodeSymbol(cdf, 0) == 0);
  CHECK(dec.DecodeSymbol(cdf, -5) == 0);
  CHECK(dec.DecodeBits(0) == 0);
  CHECK(dec.DecodeBits(17) == 0);
  CHECK(dec.DecodeBits(-1) == 0);
}

// Tables failing ValidateCdf are a caller bug, but the decoder must still
// stay in bounds and terminate (zero or wrapping frequencies).
TEST_CASE("RangeDecoder terminates with invalid tables",
          "[entropy][range_coder]") {
  const std::vector<std::vector<uint32_t>> bad = {
      {0, 0, 0}, {0, 0, 65536}, {0, 70000, 5}, {7, 3, 0xFFFFFFFFu}, {0, 1, 1}};
  SplitMix64 rng(17);
  std::vector<uint8_t> bytes(64);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng.Next());
  RangeDecoder dec(bytes.data(), bytes.size());
  for (int i = 0; i < 1000; ++i) {
    const auto& cdf = bad[rng.Below(bad.size())];
    const int s = dec.DecodeSymbol(cdf.data(), 2);
    REQUIRE(s >= 0);
    REQUIRE(s < 2);
  }
}

TEST_CASE("RangeDecoder flags out-of-CDF targets as corrupt",
          "[entropy][range_coder]") {
  // code = 0xFFFFFFFF with range 0xFFFFFFFF cannot come from an encoder.
  const uint8_t ff[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  RangeDecoder dec(ff, sizeof(ff));
  const std::vector<uint32_t> cdf = UniformCdf(10);
  CHECK(dec.DecodeSymbol(cdf.data(), 10) == 9);
  CHECK(dec.corrupt());
}

TEST_CASE("RangeDecoder survives truncated streams", "[entropy][range_coder]") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    const Stream s = RandomStream(seed, 200 + seed * 10);
    const std::vector<uint8_t> bytes = EncodeStream(s);
    for (size_t cut = 1; cut <= bytes.size(); ++cut) {
      INFO("cut " << cut << " of " << bytes.size());
      // A copy of exactly the kept bytes, so ASan catches any overread.
      const std::vector<uint8_t> kept(bytes.begin(), bytes.end() - cut);
      const Decoded d = DecodeStream(s, kept.data(), kept.size());
      for (size_t i = 0; i < s.ops.size(); ++i) {
        const Op& op = s.ops[i];
        const uint32_t limit =
            op.table < 0 ? (1u << op.nbits)
                         : static_cast<uint32_t>(s.tables[op.table].size() - 1);
        REQUIRE(d.values[i] < limit);
      }
      // If every symbol still decodes, the byte count gives the cut away:
      // an intact stream reads at most 4 bytes past its end.
      if (cut >= 2) {
        CHECK((FirstMismatch(d.values, Expected(s)) != -1 || d.past_end > 4));
      }
    }
  }
}

// Pinned bitstream: changes only with a deliberate change of the format
// (docs/entropy-coding.md). Regenerate by printing the hash of this stream.
TEST_CASE("RangeCoder golden bitstream", "[entropy][range_coder][golden]") {
  const Stream s = RandomStream(0x5EED, 20000);
  const std::vector<uint8_t> bytes = EncodeStream(s);
  INFO("size " << bytes.size() << " fnv1a64 0x" << std::hex
               << testing::Fnv1a64(bytes));
  CHECK(bytes.size() == 14227u);
  CHECK(testing::Fnv1a64(bytes) == 0x692a609446367314ull);
}

}  // namespace
}  // namespace fxic::entropy
