// Checks the worked examples of docs/entropy-coding.md against the coder.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "entropy/cdf.h"
#include "entropy/indexed_coder.h"
#include "entropy/range_coder.h"

namespace fxic::entropy {
namespace {

using Bytes = std::vector<uint8_t>;

TEST_CASE("Doc examples: bypass bits", "[entropy][doc]") {
  auto bits = [](uint32_t value, int nbits) {
    RangeEncoder enc;
    enc.EncodeBits(value, nbits);
    return enc.Finish();
  };
  CHECK(bits(1, 1) == Bytes{0x80});
  CHECK(bits(5, 3) == Bytes{0xA0});
  CHECK(bits(0xFF, 8) == Bytes{0xFF});
  CHECK(bits(1, 16) == Bytes{0x00, 0x01});
  CHECK(bits(0xFFFF, 16) == Bytes{0xFF, 0xFE, 0x01});
  CHECK(bits(0, 8) == Bytes{0x00});
  CHECK(bits(0, 7).empty());
}

TEST_CASE("Doc examples: symbols", "[entropy][doc]") {
  const uint32_t cdf[] = {0, 20000, 50000, 65536};
  CHECK(RangeEncoder().Finish().empty());
  RangeEncoder one;
  one.EncodeSymbol(cdf, 1);
  CHECK(one.Finish() == Bytes{0x4F});

  RangeEncoder enc;
  for (int s : {2, 0, 1, 1}) enc.EncodeSymbol(cdf, s);
  enc.EncodeBits(5, 3);
  const Bytes bytes = enc.Finish();
  CHECK(bytes == Bytes{0xCE});
  RangeDecoder dec(bytes.data(), bytes.size());
  for (int s : {2, 0, 1, 1}) CHECK(dec.DecodeSymbol(cdf, 3) == s);
  CHECK(dec.DecodeBits(3) == 5u);
  CHECK(dec.bytes_read_past_end() == 4);  // Flush of 0 bytes (k = 0).
}

TEST_CASE("Doc examples: indexed values", "[entropy][doc]") {
  auto made = IndexedTables::Create({0, 30000, 60000, 65536}, {3}, {-1});
  REQUIRE(made.ok());
  const IndexedTables& tables = made.value();
  auto one = [&](int32_t v) {
    RangeEncoder enc;
    EncodeIndexed(enc, tables, 0, v);
    return enc.Finish();
  };
  CHECK(one(-1).empty());
  CHECK(one(0) == Bytes{0x76});
  CHECK(one(7) == Bytes{0xFE, 0x22});
  CHECK(one(-4) == Bytes{0xFC});
  CHECK(one(2147483647) ==
        Bytes{0xFF, 0xFC, 0x15, 0x9F, 0xEA, 0x6F, 0xFF, 0xFF, 0x7F});
  CHECK(one(-2147483647 - 1) ==
        Bytes{0xFF, 0xFC, 0x15, 0x9F, 0xEA, 0x6F, 0xFF, 0xFF, 0xAA});

  RangeEncoder enc;
  for (int32_t v : {0, 7, -1, -4}) EncodeIndexed(enc, tables, 0, v);
  const Bytes bytes = enc.Finish();
  CHECK(bytes == Bytes{0xE9, 0x8D, 0x18});
  RangeDecoder dec(bytes.data(), bytes.size());
  for (int32_t v : {0, 7, -1, -4}) {
    const StatusOr<int32_t> got = DecodeIndexed(dec, tables, 0);
    REQUIRE(got.ok());
    CHECK(got.value() == v);
  }
}

}  // namespace
}  // namespace fxic::entropy
