// Integer CDF tables (16-bit precision) and sets of indexed tables with escape.
#ifndef FXIC_ENTROPY_CDF_H_
#define FXIC_ENTROPY_CDF_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fixedpoint/status.h"

namespace fxic::entropy {

// Every CDF table sums to 1 << kCdfPrecisionBits.
constexpr int kCdfPrecisionBits = 16;
constexpr uint32_t kCdfTotal = uint32_t{1} << kCdfPrecisionBits;
// Largest alphabet a table can hold (every symbol has frequency >= 1).
constexpr uint32_t kMaxSymbols = kCdfTotal;

// Checks a CDF table of n_plus_1 = n + 1 values for an alphabet of n symbols:
// n >= 1, cdf[0] == 0, cdf[n] == kCdfTotal, and cdf strictly increasing (so
// n <= kMaxSymbols). Symbol s has frequency cdf[s + 1] - cdf[s] >= 1.
// cdf may be null only when n_plus_1 == 0 (which is an error).
Status ValidateCdf(const uint32_t* cdf, size_t n_plus_1);

// A set of K >= 1 CDF tables selected per symbol by a table index, each with
// an int32 offset. In a table of n symbols (n >= 2) the last symbol, n - 1, is
// the escape: symbols 0 .. n - 2 code the values offset .. offset + n - 2
// directly, any other int32 value is coded as the escape followed by bypass
// bits (see indexed_coder.h and docs/entropy-coding.md).
//
// Instances are only built by Create(), which validates everything, so every
// IndexedTables object (including the default one, which has 0 tables) is
// safe to index with any table_index < num_tables().
class IndexedTables {
 public:
  // An empty set (num_tables() == 0); no index is valid.
  IndexedTables() = default;

  // cdfs: all tables concatenated, table t being num_symbols[t] + 1 values.
  // num_symbols[t]: alphabet size of table t, escape included (2 .. 65536).
  // offsets[t]: value coded by symbol 0 of table t; offsets[t] +
  // num_symbols[t] - 2 must not exceed INT32_MAX.
  // Errors: K == 0, vector sizes that disagree, cdfs.size() != sum of
  // (num_symbols[t] + 1), or any table failing ValidateCdf / the rules above.
  static StatusOr<IndexedTables> Create(std::vector<uint32_t> cdfs,
                                        std::vector<uint32_t> num_symbols,
                                        std::vector<int32_t> offsets);

  // Number of tables K.
  uint32_t num_tables() const {
    return static_cast<uint32_t>(num_symbols_.size());
  }
  // Requires t < num_tables(). Pointer to num_symbols(t) + 1 CDF values.
  const uint32_t* cdf(uint32_t t) const { return cdfs_.data() + starts_[t]; }
  // Requires t < num_tables(). Alphabet size, escape included.
  uint32_t num_symbols(uint32_t t) const { return num_symbols_[t]; }
  // Requires t < num_tables(). Value coded by symbol 0.
  int32_t offset(uint32_t t) const { return offsets_[t]; }
  // Requires t < num_tables(). Index of table t's cdf[0] within cdfs().
  uint32_t start(uint32_t t) const { return starts_[t]; }
  const std::vector<uint32_t>& cdfs() const { return cdfs_; }

 private:
  std::vector<uint32_t> cdfs_;
  std::vector<uint32_t> starts_;
  std::vector<uint32_t> num_symbols_;
  std::vector<int32_t> offsets_;
};

}  // namespace fxic::entropy

#endif  // FXIC_ENTROPY_CDF_H_
