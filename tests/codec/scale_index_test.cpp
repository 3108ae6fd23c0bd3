// ScaleIndex (the hyper-synthesis's table choice, docs/fixed-point.md:
// idx = #{ j : sigma >= T[j] }) against std::upper_bound, exactly, on tables
// of every length 0..70 and sigmas at, around and beyond every threshold.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "codec/networks.h"

namespace fxic {
namespace {

uint16_t Reference(const std::vector<int32_t>& t, int32_t sigma) {
  return static_cast<uint16_t>(std::upper_bound(t.begin(), t.end(), sigma) - t.begin());
}

TEST_CASE("ScaleIndex counts the thresholds at or below sigma", "[codec][scale_index]") {
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int checked = 0;
  for (size_t n = 0; n <= 70; ++n) {
    for (int round = 0; round < 4; ++round) {
      // Strictly increasing, with gaps of 1 (adjacent thresholds) and larger.
      std::vector<int32_t> t;
      int64_t v = round == 0 ? std::numeric_limits<int32_t>::min()
                             : -static_cast<int64_t>(next() % 100000);
      for (size_t j = 0; j < n; ++j) {
        t.push_back(static_cast<int32_t>(v));
        v += (round == 1) ? 1 : 1 + static_cast<int64_t>(next() % 5000);
      }
      std::vector<int32_t> sigmas = {std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::max(), 0, -1, 1};
      for (int32_t x : t) {
        for (int64_t d = -2; d <= 2; ++d) {
          const int64_t s = int64_t{x} + d;
          if (s >= std::numeric_limits<int32_t>::min() &&
              s <= std::numeric_limits<int32_t>::max()) {
            sigmas.push_back(static_cast<int32_t>(s));
          }
        }
      }
      for (int r = 0; r < 50; ++r) sigmas.push_back(static_cast<int32_t>(next()));
      for (int32_t s : sigmas) {
        INFO("n=" << n << " round=" << round << " sigma=" << s);
        REQUIRE(ScaleIndex(t, s) == Reference(t, s));
        ++checked;
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("ScaleIndexTable gives ScaleIndex of every int16 sigma", "[codec][scale_index]") {
  const std::vector<std::vector<int32_t>> tables = {
      {},
      {0},
      {-32768},
      {32767},
      {-40000, 40000},
      {-32769, -32768, -1, 0, 1, 32767, 32768},
      {5, 6, 7, 100, 1000, 20000, 32766},
  };
  std::vector<int32_t> dense;  // 63 thresholds, like a model's
  for (int j = 0; j < 63; ++j) dense.push_back(-3000 + j * j * 11);
  std::vector<std::vector<int32_t>> all = tables;
  all.push_back(dense);
  for (const std::vector<int32_t>& t : all) {
    std::vector<uint16_t> table(size_t{1} << 16, 0xffff);
    ScaleIndexTable(t, table.data());
    int mismatches = 0;
    for (int32_t v = -32768; v <= 32767; ++v) {
      if (table[static_cast<size_t>(v + 32768)] != Reference(t, v)) ++mismatches;
    }
    INFO("thresholds: " << t.size());
    CHECK(mismatches == 0);
  }
}

}  // namespace
}  // namespace fxic
