// Indexed-table value coding: direct symbols plus Exp-Golomb escapes.
#include "entropy/indexed_coder.h"

#include <cassert>
#include <limits>
#include <string>

namespace fxic::entropy {
namespace {

constexpr int kMaxBypassChunk = kCdfPrecisionBits;  // Bits per EncodeBits.

// Codes the low nbits (0 .. 64) bits of bits, most significant first, in
// chunks of 16 bits with the shorter chunk (if any) last.
void EncodeBypass(RangeEncoder& encoder, uint64_t bits, int nbits) {
  while (nbits > 0) {
    const int chunk = nbits < kMaxBypassChunk ? nbits : kMaxBypassChunk;
    nbits -= chunk;
    encoder.EncodeBits(static_cast<uint32_t>(bits >> nbits), chunk);
  }
}

uint64_t DecodeBypass(RangeDecoder& decoder, int nbits) {
  uint64_t bits = 0;
  while (nbits > 0) {
    const int chunk = nbits < kMaxBypassChunk ? nbits : kMaxBypassChunk;
    nbits -= chunk;
    bits = (bits << chunk) | decoder.DecodeBits(chunk);
  }
  return bits;
}

}  // namespace

void EncodeIndexed(RangeEncoder& encoder, const IndexedTables& tables,
                   uint32_t table_index, int32_t value) {
  assert(table_index < tables.num_tables());
  const uint32_t* cdf = tables.cdf(table_index);
  const int64_t n = tables.num_symbols(table_index);
  const int64_t offset = tables.offset(table_index);
  const int64_t v = value;
  if (v >= offset && v <= offset + n - 2) {
    encoder.EncodeSymbol(cdf, static_cast<int>(v - offset));
    return;
  }
  encoder.EncodeSymbol(cdf, static_cast<int>(n - 1));
  const uint64_t u = static_cast<uint64_t>(
      v < offset ? 2 * (offset - 1 - v) + 1 : 2 * (v - (offset + n - 1)));
  // Exp-Golomb order 0: k ones, a zero, then the low k bits of u + 1.
  const uint64_t m = u + 1;  // In [1, 2^33).
  int k = 0;
  while ((m >> (k + 1)) != 0) ++k;
  for (int i = 0; i < k; ++i) encoder.EncodeBits(1, 1);
  encoder.EncodeBits(0, 1);
  EncodeBypass(encoder, m & ((uint64_t{1} << k) - 1), k);
}

StatusOr<int32_t> DecodeIndexed(RangeDecoder& decoder,
                                const IndexedTables& tables,
                                uint32_t table_index) {
  if (table_index >= tables.num_tables()) {
    return Status::Error("entropy: table index " + std::to_string(table_index) +
                         " out of range (" +
                         std::to_string(tables.num_tables()) + " tables)");
  }
  const uint32_t n = tables.num_symbols(table_index);
  const int64_t offset = tables.offset(table_index);
  const int symbol =
      decoder.DecodeSymbol(tables.cdf(table_index), static_cast<int>(n));
  if (static_cast<uint32_t>(symbol) + 1 < n) {
    // offset + n - 2 <= INT32_MAX is guaranteed by IndexedTables::Create.
    return static_cast<int32_t>(offset + symbol);
  }
  int k = 0;
  while (decoder.DecodeBits(1) != 0) {
    if (++k > kMaxEscapeExpGolombOrder) {
      return Status::Error("entropy: escape prefix longer than 32 bits");
    }
  }
  const uint64_t m = (uint64_t{1} << k) | DecodeBypass(decoder, k);
  const int64_t u = static_cast<int64_t>(m - 1);  // < 2^33.
  const int64_t v =
      (u & 1) != 0 ? offset - 1 - (u - 1) / 2 : offset + int64_t{n} - 1 + u / 2;
  if (v < std::numeric_limits<int32_t>::min() ||
      v > std::numeric_limits<int32_t>::max()) {
    return Status::Error("entropy: escaped value outside int32");
  }
  return static_cast<int32_t>(v);
}

}  // namespace fxic::entropy
