// Tests for indexed value coding: direct symbols, escapes, errors, golden.
#include "entropy/indexed_coder.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "entropy/cdf.h"
#include "entropy/range_coder.h"
#include "tests/entropy/entropy_test_util.h"

namespace fxic::entropy {
namespace {

using testing::RandomCdf;
using testing::SplitMix64;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// Tables with offsets at and near the int32 limits and in between.
IndexedTables MakeTables(SplitMix64& rng) {
  std::vector<uint32_t> cdfs, sizes;
  std::vector<int32_t> offsets;
  auto add = [&](std::vector<uint32_t> cdf, int32_t offset) {
    sizes.push_back(static_cast<uint32_t>(cdf.size() - 1));
    cdfs.insert(cdfs.end(), cdf.begin(), cdf.end());
    offsets.push_back(offset);
  };
  add({0, 65535, 65536}, 0);  // One value plus a rarely used escape.
  add({0, 1, 65536}, -3);     // Almost always escapes.
  add(RandomCdf(rng, 2), kMin);
  add(RandomCdf(rng, 2), kMax);
  add(RandomCdf(rng, 40), kMax - 38);  // Largest allowed offset for n = 40.
  add(RandomCdf(rng, 40), kMin + 5);
  add(RandomCdf(rng, 300), -150);
  add(RandomCdf(rng, 17), 1000);
  add(RandomCdf(rng, 1 + static_cast<uint32_t>(rng.Below(5000)) + 1),
      static_cast<int32_t>(static_cast<uint32_t>(rng.Next())) / 2);
  auto t = IndexedTables::Create(cdfs, sizes, offsets);
  REQUIRE(t.ok());
  return t.value();
}

// Values that hit every path: in range, just outside, far away, extremes.
int32_t RandomValue(SplitMix64& rng, const IndexedTables& tables, uint32_t t) {
  const int64_t o = tables.offset(t);
  const int64_t n = tables.num_symbols(t);
  int64_t v = 0;
  switch (rng.Below(8)) {
    case 0:
      v = kMin + static_cast<int64_t>(rng.Below(3));
      break;
    case 1:
      v = kMax - static_cast<int64_t>(rng.Below(3));
      break;
    case 2:
      v = static_cast<int32_t>(static_cast<uint32_t>(rng.Next()));
      break;
    case 3:
      v = o - 1 - static_cast<int64_t>(rng.Below(70000));
      break;
    case 4:
      v = o + n - 1 + static_cast<int64_t>(rng.Below(70000));
      break;
    default:
      v = o + static_cast<int64_t>(rng.Below(n - 1));
      break;
  }
  if (v < kMin) v = kMin;
  if (v > kMax) v = kMax;
  return static_cast<int32_t>(v);
}

struct Item {
  uint32_t table;
  int32_t value;
};

std::vector<uint8_t> EncodeItems(const IndexedTables& tables,
                                 const std::vector<Item>& items) {
  RangeEncoder enc;
  for (const Item& it : items) EncodeIndexed(enc, tables, it.table, it.value);
  return enc.Finish();
}

void CheckRoundTrip(const IndexedTables& tables,
                    const std::vector<Item>& items) {
  const std::vector<uint8_t> bytes = EncodeItems(tables, items);
  RangeDecoder dec(bytes.data(), bytes.size());
  for (size_t i = 0; i < items.size(); ++i) {
    INFO("item " << i << " table " << items[i].table << " value "
                 << items[i].value);
    const StatusOr<int32_t> v = DecodeIndexed(dec, tables, items[i].table);
    REQUIRE(v.ok());
    REQUIRE(v.value() == items[i].value);
  }
  CHECK_FALSE(dec.corrupt());
  CHECK(dec.bytes_read_past_end() <= 4);
}

TEST_CASE("Indexed coder round-trips random values", "[entropy][indexed]") {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    const IndexedTables tables = MakeTables(rng);
    std::vector<Item> items(500 + rng.Below(1500));
    for (Item& it : items) {
      it.table = static_cast<uint32_t>(rng.Below(tables.num_tables()));
      it.value = RandomValue(rng, tables, it.table);
    }
    CheckRoundTrip(tables, items);
  }
}

TEST_CASE("Indexed coder escapes every boundary value", "[entropy][indexed]") {
  SplitMix64 rng(11);
  const IndexedTables tables = MakeTables(rng);
  std::vector<Item> items;
  for (uint32_t t = 0; t < tables.num_tables(); ++t) {
    const int64_t o = tables.offset(t);
    const int64_t n = tables.num_symbols(t);
    for (int64_t v :
         {int64_t{kMin}, int64_t{kMin} + 1, int64_t{kMax}, int64_t{kMax} - 1,
          int64_t{0}, int64_t{-1}, int64_t{1}, o - 2, o - 1, o, o + 1,
          o + n - 3, o + n - 2, o + n - 1, o + n, o - 65536, o + n + 65536}) {
      if (v < kMin || v > kMax) continue;
      items.push_back({t, static_cast<int32_t>(v)});
    }
  }
  CheckRoundTrip(tables, items);
}

TEST_CASE("Indexed coder handles every Exp-Golomb length",
          "[entropy][indexed]") {
  auto made = IndexedTables::Create({0, 32768, 65536}, {2}, {0});
  REQUIRE(made.ok());
  const IndexedTables& tables = made.value();
  std::vector<Item> items;
  // u = 2 * (v - 1) for v >= 1 and 2 * (-1 - v) + 1 for v < 0; walk u + 1
  // across every power of two so k takes every value 0 .. 32.
  for (int k = 0; k <= 32; ++k) {
    for (int64_t m : {(int64_t{1} << k), (int64_t{1} << (k + 1)) - 1}) {
      const int64_t u = m - 1;
      const int64_t v = (u & 1) ? -1 - (u - 1) / 2 : 1 + u / 2;
      if (v >= kMin && v <= kMax) items.push_back({0, static_cast<int32_t>(v)});
    }
  }
  items.push_back({0, kMin});  // u = 2^32 - 1, k = 32.
  CheckRoundTrip(tables, items);
}

TEST_CASE("DecodeIndexed rejects bad table indices", "[entropy][indexed]") {
  SplitMix64 rng(5);
  const IndexedTables tables = MakeTables(rng);
  RangeEncoder enc;
  EncodeIndexed(enc, tables, 0, 0);
  const std::vector<uint8_t> bytes = enc.Finish();
  RangeDecoder dec(bytes.data(), bytes.size());
  CHECK_FALSE(DecodeIndexed(dec, tables, tables.num_tables()).ok());
  CHECK_FALSE(DecodeIndexed(dec, tables, 0xFFFFFFFFu).ok());
  CHECK_FALSE(DecodeIndexed(dec, IndexedTables(), 0).ok());
  const StatusOr<int32_t> v = DecodeIndexed(dec, tables, 0);
  REQUIRE(v.ok());
  CHECK(v.value() == 0);
}

// Writes the escape symbol (symbol 1 of a 2-symbol table) and an Exp-Golomb
// code with prefix length k and value m as docs/entropy-coding.md specifies,
// without the range checks of EncodeIndexed.
void WriteEscape(RangeEncoder& enc, const uint32_t* cdf, int k, uint64_t m) {
  enc.EncodeSymbol(cdf, 1);
  for (int i = 0; i < k; ++i) enc.EncodeBits(1, 1);
  enc.EncodeBits(0, 1);
  for (int left = k; left > 0;) {
    const int chunk = left < 16 ? left : 16;
    left -= chunk;
    enc.EncodeBits(static_cast<uint32_t>(m >> left) & ((1u << chunk) - 1),
                   chunk);
  }
}

TEST_CASE("DecodeIndexed rejects malformed escapes", "[entropy][indexed]") {
  auto made = IndexedTables::Create({0, 32768, 65536}, {2}, {0});
  REQUIRE(made.ok());
  const IndexedTables& tables = made.value();
  const uint32_t escape_cdf[] = {0, 32768, 65536};

  SECTION("unary prefix longer than 32") {
    RangeEncoder enc;
    enc.EncodeSymbol(escape_cdf, 1);
    for (int i = 0; i < 40; ++i) enc.EncodeBits(1, 1);
    const std::vector<uint8_t> bytes = enc.Finish();
    RangeDecoder dec(bytes.data(), bytes.size());
    CHECK_FALSE(DecodeIndexed(dec, tables, 0).ok());
  }
  SECTION("value above INT32_MAX") {
    // v = 2^31: u = 2 * (2^31 - 1), m = 2^32 - 1, k = 31.
    RangeEncoder enc;
    WriteEscape(enc, escape_cdf, 31, (uint64_t{1} << 32) - 1);
    const std::vector<uint8_t> bytes = enc.Finish();
    RangeDecoder dec(bytes.data(), bytes.size());
    CHECK_FALSE(DecodeIndexed(dec, tables, 0).ok());
  }
  SECTION("value below INT32_MIN") {
    // v = -2^31 - 1: u = 2^32 + 1, m = 2^32 + 2, k = 32.
    RangeEncoder enc;
    WriteEscape(enc, escape_cdf, 32, (uint64_t{1} << 32) + 2);
    const std::vector<uint8_t> bytes = enc.Finish();
    RangeDecoder dec(bytes.data(), bytes.size());
    CHECK_FALSE(DecodeIndexed(dec, tables, 0).ok());
  }
  SECTION("same bits with k = 32 and in range decode fine") {
    // INT32_MIN: u = 2^32 - 1, m = 2^32, k = 32, low bits all zero.
    RangeEncoder enc;
    WriteEscape(enc, escape_cdf, 32, uint64_t{1} << 32);
    const std::vector<uint8_t> bytes = enc.Finish();
    RangeEncoder ref;
    EncodeIndexed(ref, tables, 0, kMin);
    CHECK(bytes == ref.Finish());
    RangeDecoder dec(bytes.data(), bytes.size());
    const StatusOr<int32_t> v = DecodeIndexed(dec, tables, 0);
    REQUIRE(v.ok());
    CHECK(v.value() == kMin);
  }
}

TEST_CASE("DecodeIndexed survives garbage", "[entropy][indexed]") {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    const IndexedTables tables = MakeTables(rng);
    std::vector<uint8_t> bytes(rng.Below(200));
    const bool ones = rng.Below(2) == 0;
    for (auto& b : bytes) b = ones ? 0xFF : static_cast<uint8_t>(rng.Next());
    RangeDecoder dec(bytes.data(), bytes.size());
    for (int i = 0; i < 300; ++i) {
      // Includes out-of-range indices.
      const uint32_t t =
          static_cast<uint32_t>(rng.Below(tables.num_tables() + 2));
      const StatusOr<int32_t> v = DecodeIndexed(dec, tables, t);
      if (t >= tables.num_tables()) CHECK_FALSE(v.ok());
    }
  }
}

// Pinned bitstream: changes only with a deliberate change of the format
// (docs/entropy-coding.md). Regenerate by printing the hash of this stream.
TEST_CASE("Indexed coder golden bitstream", "[entropy][indexed][golden]") {
  SplitMix64 rng(0xE5CA9E);
  const IndexedTables tables = MakeTables(rng);
  std::vector<Item> items(5000);
  for (Item& it : items) {
    it.table = static_cast<uint32_t>(rng.Below(tables.num_tables()));
    it.value = RandomValue(rng, tables, it.table);
  }
  const std::vector<uint8_t> bytes = EncodeItems(tables, items);
  INFO("size " << bytes.size() << " fnv1a64 0x" << std::hex
               << testing::Fnv1a64(bytes));
  CHECK(bytes.size() == 22013u);
  CHECK(testing::Fnv1a64(bytes) == 0x932e233cd4ea86faull);
}

}  // namespace
}  // namespace fxic::entropy
