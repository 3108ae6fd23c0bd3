// Range-dependent normalization: integer GDN (analysis) and IGDN (synthesis).
#ifndef FXIC_FIXEDPOINT_NORMALIZATION_H_
#define FXIC_FIXEDPOINT_NORMALIZATION_H_

#include <cstdint>

#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic {

// One GDN or IGDN layer (docs/fixed-point.md, "Range-dependent
// normalization"). The arrays are not owned; they outlive the call.
struct NormParams {
  int channels = 0;  // C >= 1
  int sq_shift = 0;  // sq[j] = RoundingShiftRight(x[j]^2, sq_shift), 0..62
  // gamma[i][j], C * C entries row-major (row i = output channel), each in
  // [0, 32767].
  const int16_t* gamma = nullptr;
  const int32_t* beta = nullptr;   // [C], >= 1, at the normalizer scale
  const int32_t* mult = nullptr;   // [C] M0, in [1, 2^31 - 1]
  const uint8_t* shift = nullptr;  // [C] n: GDN 0..47, IGDN 15..62
  int16_t out_lo = -32767;         // output clamp, -32767 <= out_lo <= out_hi
  int16_t out_hi = 32767;          //   <= 32767
};

// 1/sqrt(norm) in the normalizer's dynamic range: norm = m * 4^k, m in [1, 4),
// mq = m in Q28 ([2^28, 2^30)), r = 1/sqrt(m) in Q30 (table + one Newton
// step; r <= 2^30). So 1/sqrt(norm) = r * 2^(-30-k).
struct Rsqrt {
  int k;       // 0..15
  int32_t mq;  // Q28
  int32_t r;   // Q30
};

// Precondition: 1 <= norm (int32, so norm <= 2^31 - 1).
Rsqrt RsqrtQ30(int32_t norm);

// sqrt(m) in Q30 for IGDN: RoundingShiftRight(mq * r, 28), in [2^30, 2^31).
// So sqrt(norm) = s * 2^(k-30).
int64_t SqrtQ30(const Rsqrt& rs);

// Per pixel, per output channel i:
//   norm[i] = beta[i] + sum_j gamma[i][j] * sq[j]         (int32)
//   GDN : y[i] = Clamp(MulShift(RSR(x[i] * r, 15), M0[i], n[i] + k), lo, hi)
//   IGDN: y[i] = Clamp(MulShift(RSR(x[i] * s, 15), M0[i], n[i] - k), lo, hi)
// with k, r, s those of norm[i]. Errors on a channel mismatch.
// Arithmetic preconditions: CheckNormalizationBounds accepted `params` (with
// the matching `inverse`) for a range containing every value of `input`.
// `out` may alias `input` (in-place).
Status Gdn(const Tensor16& input, const NormParams& params, Tensor16* out);
Status Igdn(const Tensor16& input, const NormParams& params, Tensor16* out);

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_NORMALIZATION_H_
