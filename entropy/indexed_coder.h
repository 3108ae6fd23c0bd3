// Coding of int32 values with indexed CDF tables and an Exp-Golomb escape.
#ifndef FXIC_ENTROPY_INDEXED_CODER_H_
#define FXIC_ENTROPY_INDEXED_CODER_H_

#include <cstdint>

#include "entropy/cdf.h"
#include "entropy/range_coder.h"
#include "fixedpoint/status.h"

namespace fxic::entropy {

// Longest unary prefix of an escape: k <= 32 covers every int32 value.
constexpr int kMaxEscapeExpGolombOrder = 32;

// Codes value with table t = table_index (offset o, n symbols, escape n - 1):
// - o <= value <= o + n - 2: symbol value - o;
// - otherwise: the escape symbol, then u = 2 * (o - 1 - value) + 1 if
//   value < o, else u = 2 * (value - (o + n - 1)), (0 <= u < 2^33) as
//   Exp-Golomb order 0 in bypass bits (docs/entropy-coding.md, "Escape").
// Every int32 value is codable with every table.
// Contract: table_index < tables.num_tables() (the caller validates indices;
// an out-of-range index is undefined behaviour on the encoder side only).
void EncodeIndexed(RangeEncoder& encoder, const IndexedTables& tables,
                   uint32_t table_index, int32_t value);

// Inverse of EncodeIndexed. Errors (never a crash, whatever the bytes):
// table_index >= tables.num_tables(); an escape whose unary prefix exceeds
// kMaxEscapeExpGolombOrder; an escape decoding to a value outside int32.
StatusOr<int32_t> DecodeIndexed(RangeDecoder& decoder,
                                const IndexedTables& tables,
                                uint32_t table_index);

}  // namespace fxic::entropy

#endif  // FXIC_ENTROPY_INDEXED_CODER_H_
