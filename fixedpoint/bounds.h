// Overflow proofs of docs/fixed-point.md ("Overflow proofs"), run by the model
// loader before any image is processed.
//
// Each check validates every parameter range the kernels rely on and proves
// that no intermediate value of the layer can overflow for inputs in
// [in_lo, in_hi]. A model that passes can be run by any kernel, in any
// summation order, with any thread count, and give the same bytes. Errors name
// the offending channel and the violated bound.
#ifndef FXIC_FIXEDPOINT_BOUNDS_H_
#define FXIC_FIXEDPOINT_BOUNDS_H_

#include <cstdint>

#include "fixedpoint/conv2d.h"
#include "fixedpoint/normalization.h"
#include "fixedpoint/status.h"

namespace fxic {

// Largest accumulator magnitude any int32 accumulator may reach.
inline constexpr int64_t kMaxAccumulator = (int64_t{1} << 31) - 1;
// Products fed to RoundingShiftRight / MulShift stay below this.
inline constexpr int64_t kProductLimit = int64_t{1} << 62;
// Activation ranges lie inside [-kMaxActivation, kMaxActivation].
inline constexpr int kMaxActivation = 32767;

// An activation range: -32767 <= lo <= hi <= 32767. `what` prefixes the error.
Status CheckActivationRange(int lo, int hi, const char* what);

// Convolution: kernel in {1,3,5}, stride in {1,2}, cin, cout >= 1, non-null
// arrays, weights in [-127, 127], M0 in [1, 2^31-1], n in [0, 62], valid
// input and output ranges, and for every output channel o, with
// A = max(|in_lo|, |in_hi|):
//   |bias[o]| + A * sum |w[o][.][.][.]| <= 2^31 - 1,  (2^31 - 1) * M0[o] <
//   2^62.
Status CheckConvBounds(const ConvParams& params, int in_lo, int in_hi);

// GDN (inverse = false) or IGDN (inverse = true): C >= 1, non-null arrays,
// 0 <= sq_shift <= 62, Q = RoundingShiftRight(A^2, sq_shift) <= 32767,
// gamma in [0, 32767], beta >= 1, M0 >= 1, n in [0, 47] (GDN) or [15, 62]
// (IGDN), valid ranges, and for every channel i:
//   beta[i] + Q * sum_j gamma[i][j] <= 2^31 - 1.
Status CheckNormalizationBounds(const NormParams& params, bool inverse,
                                int in_lo, int in_hi);

// Gains (or inverse gains) table[levels][channels], row-major: levels,
// channels >= 1, every multiplier >= 1, 0 <= shift <= 62, valid ranges, and
// A * max(G) < 2^62 (interpolated multipliers lie between two table entries,
// and |G[l+1][c] - G[l][c]| * 256 < 2^62 always holds for int32 entries).
Status CheckGainBounds(const int32_t* table, int levels, int channels,
                       int shift, int in_lo, int in_hi, int out_lo, int out_hi);

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_BOUNDS_H_
