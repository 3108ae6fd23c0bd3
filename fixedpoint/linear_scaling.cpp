// Linear scaling: per-channel requantization and the variable-rate gains.
#include "fixedpoint/linear_scaling.h"

#include <string>

namespace fxic {

void LinearScaleRow(const int32_t* acc, int pixels, int channels,
                    const int32_t* mult, const uint8_t* shift, int16_t lo,
                    int16_t hi, int16_t* out) {
  for (int p = 0; p < pixels; ++p) {
    for (int c = 0; c < channels; ++c) {
      out[c] = LinearScale(acc[c], mult[c], shift[c], lo, hi);
    }
    acc += channels;
    out += channels;
  }
}

Status InterpolateGains(const int32_t* table, int levels, int channels, int qf,
                        int32_t* out) {
  if (levels < 1 || channels < 1) {
    return Status::Error("gains: need at least one level and one channel");
  }
  const int64_t qf_max = int64_t{256} * (levels - 1);
  if (qf < 0 || qf > qf_max) {
    return Status::Error("gains: quality " + std::to_string(qf) +
                         " (Q8) outside [0, " + std::to_string(qf_max) + "]");
  }
  if (levels == 1) {
    for (int c = 0; c < channels; ++c) out[c] = table[c];
    return Status::Ok();
  }
  const int l = (qf >> 8) < levels - 2 ? (qf >> 8) : levels - 2;
  const int t = qf - 256 * l;
  const int32_t* g_lo = table + static_cast<size_t>(l) * channels;
  const int32_t* g_hi = g_lo + channels;
  for (int c = 0; c < channels; ++c) {
    out[c] = InterpolateGain(g_lo[c], g_hi[c], t);
  }
  return Status::Ok();
}

void ApplyGain(const Tensor16& in, const int32_t* gain, int shift, int16_t lo,
               int16_t hi, Tensor16* out) {
  if (out != &in) out->Reshape(in.height, in.width, in.channels);
  const size_t pixels = static_cast<size_t>(in.height) * in.width;
  const int channels = in.channels;
  for (size_t p = 0; p < pixels; ++p) {
    const int16_t* src = in.data.data() + p * channels;
    int16_t* dst = out->data.data() + p * channels;
    for (int c = 0; c < channels; ++c) {
      dst[c] = LinearScale(src[c], gain[c], shift, lo, hi);
    }
  }
}

}  // namespace fxic
