// Linear scaling: requantization of an accumulator to int16, and the gains.
//
// A linear-scaling layer maps a value at scale s_acc to an int16 at scale
// s_out with the multiplier M0 * 2^-n ~= s_acc / s_out, then clamps to the
// output range (docs/fixed-point.md, "Convolution + linear scaling" and
// "Gains"). Convolutions and the variable-rate gains share this one step.
#ifndef FXIC_FIXEDPOINT_LINEAR_SCALING_H_
#define FXIC_FIXEDPOINT_LINEAR_SCALING_H_

#include <cstdint>

#include "fixedpoint/rounding.h"
#include "fixedpoint/status.h"
#include "fixedpoint/tensor.h"

namespace fxic {

// Clamp(MulShift(acc, mult, shift), lo, hi) as int16.
// Preconditions (CheckConvBounds / CheckGainBounds prove them for a model):
// |acc * mult| < 2^62, 0 <= shift <= 62, -32767 <= lo <= hi <= 32767.
constexpr int16_t LinearScale(int64_t acc, int64_t mult, int shift, int16_t lo,
                              int16_t hi) {
  return static_cast<int16_t>(Clamp(MulShift(acc, mult, shift), lo, hi));
}

// Per-channel requantization of `pixels` pixels of `channels` int32
// accumulators each (channels innermost): out[p][c] = LinearScale(acc[p][c],
// mult[c], shift[c], lo, hi). mult[c] in [1, 2^31 - 1], shift[c] in [0, 62].
void LinearScaleRow(const int32_t* acc, int pixels, int channels,
                    const int32_t* mult, const uint8_t* shift, int16_t lo,
                    int16_t hi, int16_t* out);

// The gain multiplier of one channel at quality qf (Q8, see the doc):
// g_lo + RoundingShiftRight((g_hi - g_lo) * t, 8), with g_lo = G[l][c],
// g_hi = G[l+1][c], t = qf - 256 * l in [0, 256]. Result lies between g_lo
// and g_hi. Precondition: g_lo, g_hi >= 1 (int32), 0 <= t <= 256.
constexpr int32_t InterpolateGain(int32_t g_lo, int32_t g_hi, int t) {
  return static_cast<int32_t>(
      g_lo + RoundingShiftRight((int64_t{g_hi} - g_lo) * t, 8));
}

// Per-channel multipliers for quality qf from a [levels][channels] row-major
// table: with l = min(qf >> 8, levels - 2) and t = qf - 256 * l,
// out[c] = InterpolateGain(table[l][c], table[l + 1][c], t); for levels == 1
// out[c] = table[0][c]. Errors if levels < 1, channels < 1 or qf is outside
// [0, 256 * (levels - 1)] (qf comes from the command line).
Status InterpolateGains(const int32_t* table, int levels, int channels, int qf,
                        int32_t* out);

// y_g[y][x][c] = LinearScale(in[y][x][c], gain[c], shift, lo, hi): the gain
// (encoder) or the inverse gain (decoder). `gain` has in.channels entries.
// Preconditions: CheckGainBounds accepted the table; `out` may alias `in`.
void ApplyGain(const Tensor16& in, const int32_t* gain, int shift, int16_t lo,
               int16_t hi, Tensor16* out);

}  // namespace fxic

#endif  // FXIC_FIXEDPOINT_LINEAR_SCALING_H_
