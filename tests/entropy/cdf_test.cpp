// Tests for CDF validation and indexed table sets.
#include "entropy/cdf.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/entropy/entropy_test_util.h"

namespace fxic::entropy {
namespace {

bool Valid(const std::vector<uint32_t>& cdf) {
  return ValidateCdf(cdf.data(), cdf.size()).ok();
}

TEST_CASE("ValidateCdf accepts valid tables", "[entropy][cdf]") {
  CHECK(Valid({0, 65536}));
  CHECK(Valid({0, 1, 65536}));
  CHECK(Valid({0, 65535, 65536}));
  CHECK(Valid({0, 100, 200, 65536}));
  std::vector<uint32_t> full(kMaxSymbols + 1);
  for (uint32_t i = 0; i <= kMaxSymbols; ++i) full[i] = i;
  CHECK(Valid(full));
  testing::SplitMix64 rng(3);
  for (int i = 0; i < 200; ++i) {
    CHECK(Valid(testing::RandomCdf(
        rng, 1 + static_cast<uint32_t>(rng.Below(kMaxSymbols)))));
  }
}

TEST_CASE("ValidateCdf rejects invalid tables", "[entropy][cdf]") {
  CHECK_FALSE(ValidateCdf(nullptr, 0).ok());  // n = 0
  CHECK_FALSE(ValidateCdf(nullptr, 2).ok());
  CHECK_FALSE(Valid({}));
  CHECK_FALSE(Valid({0}));                   // n = 0
  CHECK_FALSE(Valid({65536}));               // n = 0
  CHECK_FALSE(Valid({1, 65536}));            // does not start at 0
  CHECK_FALSE(Valid({0, 65535}));            // wrong end
  CHECK_FALSE(Valid({0, 65537}));            // wrong end
  CHECK_FALSE(Valid({0, 100, 65535}));       // wrong end
  CHECK_FALSE(Valid({0, 0, 65536}));         // zero frequency
  CHECK_FALSE(Valid({0, 100, 100, 65536}));  // zero frequency
  CHECK_FALSE(Valid({0, 65536, 65536}));     // zero frequency at the end
  CHECK_FALSE(Valid({0, 300, 200, 65536}));  // not monotone
  CHECK_FALSE(Valid({0, 70000, 65536}));     // not monotone
  CHECK_FALSE(Valid({0, 0xFFFFFFFFu, 65536}));
  std::vector<uint32_t> too_many(kMaxSymbols + 2);  // 65537 symbols
  for (uint32_t i = 0; i < too_many.size(); ++i) too_many[i] = i;
  CHECK_FALSE(Valid(too_many));
  const Status s = ValidateCdf(nullptr, 0);
  CHECK_FALSE(s.message().empty());
}

TEST_CASE("IndexedTables::Create builds a valid set", "[entropy][cdf]") {
  auto t = IndexedTables::Create({0, 65536, 0, 1, 2, 65536}, {1, 3}, {5, -7});
  CHECK_FALSE(t.ok());  // Table 0 has only the escape symbol.

  auto ok =
      IndexedTables::Create({0, 30000, 65536, 0, 1, 2, 65536}, {2, 3}, {5, -7});
  REQUIRE(ok.ok());
  const IndexedTables& tables = ok.value();
  CHECK(tables.num_tables() == 2);
  CHECK(tables.num_symbols(0) == 2);
  CHECK(tables.num_symbols(1) == 3);
  CHECK(tables.offset(0) == 5);
  CHECK(tables.offset(1) == -7);
  CHECK(tables.start(0) == 0);
  CHECK(tables.start(1) == 3);
  CHECK(tables.cdf(1)[1] == 1);
  CHECK(tables.cdfs().size() == 7);
  CHECK(IndexedTables().num_tables() == 0);
}

TEST_CASE("IndexedTables::Create rejects invalid sets", "[entropy][cdf]") {
  const int32_t kMax = std::numeric_limits<int32_t>::max();
  const int32_t kMin = std::numeric_limits<int32_t>::min();
  // K = 0.
  CHECK_FALSE(IndexedTables::Create({}, {}, {}).ok());
  // Counts disagree.
  CHECK_FALSE(IndexedTables::Create({0, 1, 65536}, {2}, {0, 0}).ok());
  // n < 2 (no room for a symbol besides the escape), n > 65536.
  CHECK_FALSE(IndexedTables::Create({0, 65536}, {1}, {0}).ok());
  CHECK_FALSE(IndexedTables::Create({0}, {0}, {0}).ok());
  std::vector<uint32_t> big(kMaxSymbols + 2);
  for (uint32_t i = 0; i < big.size(); ++i) big[i] = i;
  CHECK_FALSE(IndexedTables::Create(big, {kMaxSymbols + 1}, {0}).ok());
  // Too few / too many CDF values.
  CHECK_FALSE(IndexedTables::Create({0, 1}, {2}, {0}).ok());
  CHECK_FALSE(IndexedTables::Create({0, 1, 65536, 0}, {2}, {0}).ok());
  CHECK_FALSE(IndexedTables::Create({0, 1, 65536}, {0xFFFFFFFFu}, {0}).ok());
  // A bad CDF in the second table.
  CHECK_FALSE(
      IndexedTables::Create({0, 1, 65536, 0, 5, 5, 65536}, {2, 3}, {0, 0})
          .ok());
  // offset + n - 2 must fit in int32.
  const std::vector<uint32_t> three = {0, 10, 20, 65536};
  CHECK(IndexedTables::Create(three, {3}, {kMax - 1}).ok());
  CHECK_FALSE(IndexedTables::Create(three, {3}, {kMax}).ok());
  CHECK(IndexedTables::Create({0, 1, 65536}, {2}, {kMax}).ok());
  CHECK(IndexedTables::Create(three, {3}, {kMin}).ok());
  std::vector<uint32_t> full(kMaxSymbols + 1);
  for (uint32_t i = 0; i <= kMaxSymbols; ++i) full[i] = i;
  CHECK(IndexedTables::Create(full, {kMaxSymbols}, {kMax - 65534}).ok());
  CHECK_FALSE(IndexedTables::Create(full, {kMaxSymbols}, {kMax - 65533}).ok());
}

}  // namespace
}  // namespace fxic::entropy
