// Validation of CDF tables and construction of indexed table sets.
#include "entropy/cdf.h"

#include <limits>
#include <string>
#include <utility>

namespace fxic::entropy {

Status ValidateCdf(const uint32_t* cdf, size_t n_plus_1) {
  if (n_plus_1 < 2) {
    return Status::Error("CDF table needs at least 1 symbol (2 values), got " +
                         std::to_string(n_plus_1) + " values");
  }
  if (n_plus_1 - 1 > kMaxSymbols) {
    return Status::Error("CDF table has more than 65536 symbols");
  }
  if (cdf == nullptr) return Status::Error("CDF table is null");
  if (cdf[0] != 0) return Status::Error("CDF table does not start at 0");
  if (cdf[n_plus_1 - 1] != kCdfTotal) {
    return Status::Error("CDF table does not end at 65536");
  }
  for (size_t i = 1; i < n_plus_1; ++i) {
    if (cdf[i] <= cdf[i - 1]) {
      return Status::Error("CDF table not strictly increasing at index " +
                           std::to_string(i) + " (symbol frequency 0)");
    }
  }
  return Status::Ok();
}

StatusOr<IndexedTables> IndexedTables::Create(std::vector<uint32_t> cdfs,
                                              std::vector<uint32_t> num_symbols,
                                              std::vector<int32_t> offsets) {
  if (num_symbols.empty()) return Status::Error("indexed tables: no table");
  if (num_symbols.size() != offsets.size()) {
    return Status::Error("indexed tables: table and offset counts differ");
  }
  if (num_symbols.size() > std::numeric_limits<uint32_t>::max()) {
    return Status::Error("indexed tables: too many tables");
  }
  std::vector<uint32_t> starts;
  starts.reserve(num_symbols.size());
  uint64_t start = 0;
  for (size_t t = 0; t < num_symbols.size(); ++t) {
    const uint64_t n = num_symbols[t];
    const std::string where = "indexed table " + std::to_string(t) + ": ";
    if (n < 2) {
      return Status::Error(where + "needs at least 1 symbol plus the escape");
    }
    if (n > kMaxSymbols) return Status::Error(where + "over 65536 symbols");
    if (start + n + 1 > cdfs.size()) {
      return Status::Error(where + "CDF values run past the end");
    }
    if (start + n + 1 > std::numeric_limits<uint32_t>::max()) {
      return Status::Error(where + "starts beyond 2^32 CDF values");
    }
    // Largest directly coded value is offset + n - 2; it must be an int32.
    if (int64_t{offsets[t]} + static_cast<int64_t>(n) - 2 >
        int64_t{std::numeric_limits<int32_t>::max()}) {
      return Status::Error(where + "offset + n - 2 overflows int32");
    }
    Status s = ValidateCdf(cdfs.data() + start, n + 1);
    if (!s.ok()) return Status::Error(where + s.message());
    starts.push_back(static_cast<uint32_t>(start));
    start += n + 1;
  }
  if (start != cdfs.size()) {
    return Status::Error(
        "indexed tables: " + std::to_string(cdfs.size() - start) +
        " CDF values left over after the last table");
  }
  IndexedTables tables;
  tables.cdfs_ = std::move(cdfs);
  tables.starts_ = std::move(starts);
  tables.num_symbols_ = std::move(num_symbols);
  tables.offsets_ = std::move(offsets);
  return tables;
}

}  // namespace fxic::entropy
